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
 * says; it takes effect for the next call.
 */
export interface ToolSwitchboard extends ToolSwitch {
  state(tool: string): ToolSwitchState;
  set(change: { tool: string; enabled: boolean; reason: string; changedBy: string }): Promise<ToolSwitchRecord>;
  history(opts?: { tool?: string; limit?: number }): Promise<ToolSwitchRecord[]>;
}

/** Loads every tool's latest switch from `store` and answers from memory after that. */
export async function createToolSwitchboard(store: ToolSwitchStore): Promise<ToolSwitchboard> {
  const latest = new Map<string, ToolSwitchRecord>();
  // Only the disabled ones, for the one lookup every call makes.
  const disabled = new Map<string, string>();
  const apply = (record: ToolSwitchRecord): void => {
    latest.set(record.tool, record);
    if (record.enabled) disabled.delete(record.tool);
    else disabled.set(record.tool, record.reason);
  };
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
