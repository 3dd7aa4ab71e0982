import type { RouterOutputs } from '@toolrun/api';
import { describeError } from '../../lib/describeError.ts';
import type { RunEvent, RunEventOf } from '../../lib/types.ts';

/** The `approval` of an `agent_thinking` event. */
export type ApprovalInfo = NonNullable<RunEventOf<'agent_thinking'>['approval']>;
/** A stored approval, as `approvals.list` returns it. */
export type ApprovalRecord = RouterOutputs['approvals']['list']['items'][number];

/** An approval as the console shows it: its last known state, and whether this tab is deciding it. */
export interface ConsoleApproval extends ApprovalInfo {
  runId: string;
  /** Set while this tab's decision is in flight. */
  deciding: 'approve' | 'deny' | undefined;
  /** The last refusal of this tab's decision (CONFLICT, FORBIDDEN, …). */
  error: string | undefined;
}

/** The ports of the store: the tRPC client's calls. */
export interface ApprovalsStoreOptions {
  listPending(): Promise<readonly ApprovalRecord[]>;
  /** Opens the user's `runs.feed`; the store reads the approval events from it. */
  subscribeFeed(observer: { onData(message: { data: readonly RunEvent[] }): void; onError(error: unknown): void }): {
    unsubscribe(): void;
  };
  decide(input: { approvalId: string; decision: 'approve' | 'deny' }): Promise<unknown>;
}

/**
 * The user's approvals, live: the pending ones from `approvals.list`, then every approval event of
 * the user's runs from `runs.feed`, so a decision made in another tab or device shows here at once.
 * The feed wins over the listing (a listing that arrives after the decision cannot bring a pending
 * approval back). React reads it with `useSyncExternalStore`.
 */
export class ApprovalsStore {
  readonly #opts: ApprovalsStoreOptions;
  readonly #byId = new Map<string, ConsoleApproval>();
  readonly #listeners = new Set<() => void>();
  #pending: readonly ConsoleApproval[] = [];
  #feed: { unsubscribe(): void } | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(opts: ApprovalsStoreOptions) {
    this.#opts = opts;
  }

  /** Opens the feed, then reads the pending listing. */
  start(): void {
    this.#open();
    this.#opts.listPending().then(
      (items) => {
        for (const item of items) {
          if (item.status !== 'pending' || this.#byId.has(item.id)) continue;
          this.#byId.set(item.id, {
            id: item.id,
            state: 'requested',
            callId: item.callId,
            tool: item.tool,
            input: item.input,
            expiresAt: item.expiresAt,
            runId: item.runId,
            deciding: undefined,
            error: undefined,
          });
        }
        this.#changed();
      },
      () => undefined,
    );
  }

  #open(): void {
    if (this.#disposed) return;
    this.#feed = this.#opts.subscribeFeed({
      onData: (message) => this.apply(message.data),
      // The transport resumes by itself after a drop; a refused feed is retried a little later.
      onError: () => {
        this.#feed?.unsubscribe();
        this.#retry = setTimeout(() => this.#open(), 2_000);
      },
    });
  }

  /** Applies the approval events among `events` (from the feed, or a run's own stream). */
  apply(events: readonly RunEvent[]): void {
    let changed = false;
    for (const event of events) {
      if (event.type !== 'agent_thinking' || event.approval === undefined) continue;
      const known = this.#byId.get(event.approval.id);
      // A later `requested` (a restarted server asking again) does not undo a decision.
      if (known !== undefined && known.state !== 'requested' && event.approval.state === 'requested') continue;
      this.#byId.set(event.approval.id, {
        ...event.approval,
        runId: event.runId,
        deciding: undefined,
        error: undefined,
      });
      changed = true;
    }
    if (changed) this.#changed();
  }

  /** Approves or denies; the feed brings the outcome. A refusal is kept on the approval as `error`. */
  async decide(approvalId: string, decision: 'approve' | 'deny'): Promise<void> {
    this.#patch(approvalId, { deciding: decision, error: undefined });
    try {
      await this.#opts.decide({ approvalId, decision });
      this.#patch(approvalId, { deciding: undefined });
    } catch (error) {
      this.#patch(approvalId, { deciding: undefined, error: describeError(error).message });
    }
  }

  #patch(id: string, patch: Partial<ConsoleApproval>): void {
    const known = this.#byId.get(id);
    if (known === undefined) return;
    this.#byId.set(id, { ...known, ...patch });
    this.#changed();
  }

  /** The approval with `id`, as last known. */
  get(id: string): ConsoleApproval | undefined {
    return this.#byId.get(id);
  }

  /** Pending approvals, oldest first. */
  getSnapshot = (): readonly ConsoleApproval[] => this.#pending;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#retry);
    this.#feed?.unsubscribe();
    this.#listeners.clear();
  }

  #changed(): void {
    this.#pending = [...this.#byId.values()]
      .filter((a) => a.state === 'requested')
      .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
    for (const listener of this.#listeners) listener();
  }
}
