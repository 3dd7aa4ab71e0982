import type { ToolSwitchRecord, ToolSwitchStore } from '@toolrun/db';
import type { ToolSwitch } from '@toolrun/dispatcher';

/** A tool's kill-switch state as `tools.list` shows it. */
export interface ToolSwitchState {
  readonly enabled: boolean;
  /** The change that set this state; absent for a tool never switched. */
  readonly lastChange?: ToolSwitchRecord;
}

/**
 * The kill switch per tool: durable in the database, answered from memory on the hot path. A change
 * is committed before it takes effect, so what the dispatcher refuses is always what the audit log
 * says; it takes effect for the next call. With several processes on one database (PostgreSQL), a
 * change made through another process reaches this one by the store's `watch` notification, and the
 * board re-reads every tool's latest change: a tool disabled through process A is refused by process B
 * at its next call after the notification.
 */
export interface ToolSwitchboard extends ToolSwitch {
  state(tool: string): ToolSwitchState;
  set(change: { tool: string; enabled: boolean; reason: string; changedBy: string }): Promise<ToolSwitchRecord>;
  history(opts?: { tool?: string; limit?: number }): Promise<ToolSwitchRecord[]>;
}

/** Options of {@link createToolSwitchboard}. */
export interface ToolSwitchboardOptions {
  /** Called after each re-read a notification caused (with the error when the read failed): for logs and tests. */
  onReload?: (error?: unknown) => void;
}

/**
 * Loads every tool's latest switch from `store`, answers from memory after that, and re-reads when the
 * store tells of a change made elsewhere (`store.watch`).
 */
export async function createToolSwitchboard(
  store: ToolSwitchStore,
  opts: ToolSwitchboardOptions = {},
): Promise<ToolSwitchboard> {
  const latest = new Map<string, ToolSwitchRecord>();
  // Only the disabled ones, for the one lookup every call makes.
  const disabled = new Map<string, string>();
  const apply = (record: ToolSwitchRecord): void => {
    // A re-read that started before a newer change was applied must not undo it: ids only grow.
    const known = latest.get(record.tool);
    if (known !== undefined && known.id > record.id) return;
    latest.set(record.tool, record);
    if (record.enabled) disabled.delete(record.tool);
    else disabled.set(record.tool, record.reason);
  };
  // One re-read at a time; notifications during one ask for one more after it.
  let reloading = false;
  let again = false;
  const reload = async (): Promise<void> => {
    if (reloading) {
      again = true;
      return;
    }
    reloading = true;
    try {
      do {
        again = false;
        try {
          for (const record of await store.current()) apply(record);
          opts.onReload?.();
        } catch (error) {
          // The database is closed or unreachable: the next notification (or reconnection) re-reads.
          opts.onReload?.(error);
        }
      } while (again);
    } finally {
      reloading = false;
    }
  };
  // Watch first: a change committed after the first read is notified, one before it is in the read.
  store.watch(() => void reload());
  for (const record of await store.current()) apply(record);
  return {
    disabledReason: (tool) => disabled.get(tool),
    state(tool) {
      const lastChange = latest.get(tool);
      return lastChange === undefined ? { enabled: true } : { enabled: lastChange.enabled, lastChange };
    },
    async set(change) {
      const record = await store.record(change);
      apply(record);
      return record;
    },
    history: (opts) => store.history(opts),
  };
}
