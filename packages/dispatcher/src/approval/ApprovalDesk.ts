import type { ActiveRun } from '../ActiveRun.ts';
import { isAdmin, type UserExecutionContext } from '../context.ts';
import type { ToolResult } from '../defineAgent.ts';
import { DispatchError } from '../errors.ts';
import type { ApprovalInfo, JsonValue } from '../events.ts';
import type { FactoryCore } from '../FactoryCore.ts';
import type { CircuitBreaker } from '../limits/CircuitBreaker.ts';
import { redactWith } from '../redact.ts';
import type { ToolCall } from '../ToolCall.ts';
import type { ToolEntry } from '../toolRegistry.ts';
import { ApprovalGate, type GateHost } from './ApprovalGate.ts';
import type { ApprovalSettlement, ApprovalStore } from './ApprovalStore.ts';
import { createMemoryApprovalStore } from './createMemoryApprovalStore.ts';

/** The approval settings of a factory (`createDispatcherFactory({ approvals })`). */
export interface ApprovalOptions {
  /**
   * Where approvals are kept; in memory when absent (nothing survives the process). A store given
   * here is taken to be durable: at shutdown, runs parked on approval are left pending in it.
   */
  readonly store?: ApprovalStore;
  /** How long a call waits for its approval unless its tool says otherwise; default 15 minutes. */
  readonly defaultTimeoutMs?: number;
}

/** The default of {@link ApprovalOptions.defaultTimeoutMs}. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 900_000;

/** Who decides, as the API passes them on. */
export interface Decider {
  readonly userId: string;
  readonly roles: readonly string[];
}

/** A decision on a pending approval. */
export interface ApprovalDecision {
  readonly approvalId: string;
  readonly decision: 'approve' | 'deny';
  readonly by: Decider;
  readonly reason?: string;
}

/**
 * A factory's approvals: the calls waiting for a person (by approval id), the store, the default
 * deadline. It turns decisions and deadlines into compare-and-sets in the store and wakes the
 * waiting call with whichever settlement won. Internal; the factory exposes {@link decide}.
 */
export class ApprovalDesk implements GateHost {
  readonly gates = new Map<string, ApprovalGate>();
  readonly now: () => number;

  constructor(
    readonly core: FactoryCore,
    readonly store: ApprovalStore,
    readonly defaultTimeoutMs: number,
    /** Whether the store outlives the process (one was given): only then are parked runs let go at shutdown. */
    readonly durable: boolean,
  ) {
    this.now = () => core.clock.now();
  }

  /** Whether a call of `entry` with parsed input `data` must wait for approval. Fails safe: a throwing rule asks. */
  needs(entry: ToolEntry, data: unknown, context: UserExecutionContext): boolean {
    const rule = entry.tool.approval;
    if (rule === undefined) return false;
    if (rule === 'always') return true;
    try {
      return rule(data, { context }) !== false;
    } catch {
      return true;
    }
  }

  /**
   * Parks `call` until its approval is settled: stores the pending approval, emits `requested`,
   * and resolves with the call's result once it ran or was refused. `text` is the `requested` thought.
   */
  hold(opts: {
    call: ToolCall;
    context: UserExecutionContext;
    input: unknown;
    data: unknown;
    breaker: CircuitBreaker;
    callerSignal: AbortSignal | undefined;
    /** A call resumed after a restart: its approval's id and deadline are the stored ones. */
    resumed?: { id: string; expiresAtMs: number };
  }): Promise<ToolResult> {
    const { call, context } = opts;
    const entry = call.entry as ToolEntry;
    const now = this.now();
    const expiresAtMs = opts.resumed?.expiresAtMs ?? now + (entry.tool.approvalTimeoutMs ?? this.defaultTimeoutMs);
    const id = opts.resumed?.id ?? `approval_${this.core.ids.requestId()}`;
    const redacted = redactWith(opts.input, this.core.limits.redaction, entry.sensitive);
    const info: ApprovalInfo = {
      id,
      state: 'requested',
      callId: call.callId,
      tool: call.tool,
      input: redacted,
      expiresAt: new Date(expiresAtMs).toISOString(),
    };
    const approvers = entry.tool.approvers ?? 'owner';
    const gate = new ApprovalGate(this, call, context, opts.data, opts.breaker, opts.callerSignal, info, {
      approvers,
      expiresAtMs,
    });
    this.gates.set(id, gate);
    if (opts.resumed === undefined) {
      try {
        const stored = this.store.create({
          id,
          runId: context.runId,
          userId: context.userId,
          callId: call.callId,
          tool: call.tool,
          input: redacted,
          callInput: (opts.input ?? null) as JsonValue,
          roles: context.roles,
          approvers,
          createdAt: now,
          expiresAt: expiresAtMs,
        });
        if (stored !== undefined) gate.created = stored.then(undefined, (error) => this.#storeFailed(gate, error));
      } catch (error) {
        gate.created = this.#storeFailed(gate, error);
      }
      // Rejected only when the store failed, which fails the call itself: nobody needs to hear it twice.
      gate.created.catch(() => undefined);
    }
    const text = opts.resumed
      ? `Still waiting for approval to run ${call.tool} after a server restart (approval ${id}, until ${info.expiresAt}).`
      : `Waiting for approval to run ${call.tool} (approval ${id}, until ${info.expiresAt}).`;
    const result = gate.open(text);
    return result;
  }

  #storeFailed(gate: ApprovalGate, error: unknown): Promise<never> {
    const message = error instanceof Error ? error.message : String(error);
    // A synchronous store fails before the gate is open: fail the call in a microtask, once it is.
    queueMicrotask(() => gate.fail(`the approval could not be stored: ${message}`));
    return Promise.reject(new DispatchError('SINK_FAILED', message));
  }

  /**
   * Decides a waiting approval: `APPROVAL_NOT_FOUND` when no call of this factory waits for it,
   * `APPROVAL_FORBIDDEN` when the tool does not let `by` decide, `APPROVAL_DECIDED` when another
   * settlement won first (compare-and-set in the store). Resolves with the approval as decided.
   */
  async decide(decision: ApprovalDecision): Promise<ApprovalInfo> {
    const gate = this.gates.get(decision.approvalId);
    if (gate === undefined) {
      throw new DispatchError('APPROVAL_NOT_FOUND', `no call is waiting for approval ${decision.approvalId}`);
    }
    const { by } = decision;
    const owner = by.userId === gate.ownerId;
    const admin = isAdmin({ roles: by.roles as UserExecutionContext['roles'] });
    const allowed =
      gate.approvers === 'owner'
        ? owner
        : gate.approvers === 'admin'
          ? admin
          : gate.approvers === 'both' && (owner || admin);
    if (!allowed) {
      const who =
        gate.approvers === 'both'
          ? 'the run owner or an admin'
          : gate.approvers === 'owner'
            ? 'the run owner'
            : 'an admin';
      throw new DispatchError('APPROVAL_FORBIDDEN', `only ${who} may decide on ${gate.call.tool}`);
    }
    try {
      await gate.created;
    } catch {
      throw new DispatchError('APPROVAL_NOT_FOUND', `approval ${decision.approvalId} was never stored`);
    }
    const settlement: ApprovalSettlement = {
      state: decision.decision === 'approve' ? 'approved' : 'denied',
      decidedBy: by.userId,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      at: this.now(),
    };
    if (!(await this.store.settle(decision.approvalId, settlement))) {
      throw new DispatchError('APPROVAL_DECIDED', `approval ${decision.approvalId} was already settled`);
    }
    gate.settle(settlement);
    return gate.info;
  }

  /**
   * Shutdown: lets go of every run parked on approval that a later process can resume (its agent
   * has `resume`, and each of its open calls is a top-level call waiting for approval), without an
   * event: the run stays `running` and its approvals `pending` in the store, and the next start
   * resumes it. Other runs end as a drain ends them. Returns how many runs were let go.
   */
  suspendParked(): number {
    if (!this.durable) return 0;
    const byRun = new Map<ActiveRun, ApprovalGate[]>();
    for (const gate of this.gates.values()) {
      const list = byRun.get(gate.call.run);
      if (list === undefined) byRun.set(gate.call.run, [gate]);
      else list.push(gate);
    }
    let suspended = 0;
    const { core } = this;
    for (const [run, gates] of byRun) {
      if (run.closed || run.mode !== 'agent' || run.inFlight !== gates.length) continue;
      if (gates.some((gate) => gate.call.owner !== undefined)) continue;
      if (core.agents.get(run.agent)?.resume === undefined) continue;
      for (const gate of gates) gate.suspend();
      core.runs.delete(run.runId);
      core.unsettled.delete(run);
      core.releaseRun(run.userId);
      if (run.ownedScope) core.releaseScope(run.ownedScope);
      suspended += 1;
    }
    return suspended;
  }

  release(gate: ApprovalGate): void {
    if (this.gates.get(gate.id) === gate) this.gates.delete(gate.id);
  }

  expire(gate: ApprovalGate): void {
    const settlement: ApprovalSettlement = { state: 'expired', at: this.now() };
    void (async () => {
      try {
        await gate.created;
        if (await this.store.settle(gate.id, settlement)) gate.settle(settlement);
      } catch (error) {
        gate.fail(
          `the approval's expiry could not be stored: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    })();
  }

  cancelled(gate: ApprovalGate, reason: string): void {
    const settlement: ApprovalSettlement = { state: 'cancelled', reason, at: this.now() };
    void (async () => {
      try {
        await gate.created;
        await this.store.settle(gate.id, settlement);
      } catch {
        // The run has ended already; a store that cannot record it leaves the row pending, and the
        // next start's recovery settles it (its run is no longer running).
      }
    })();
  }
}

const desks = new WeakMap<FactoryCore, ApprovalDesk>();

/** Gives a factory's core its approval desk. Internal: called once by the factory. */
export function attachApprovalDesk(core: FactoryCore, opts: ApprovalOptions = {}): ApprovalDesk {
  const timeout = opts.defaultTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    throw new DispatchError('INVALID_LIMITS', 'approvals.defaultTimeoutMs must be a positive number of milliseconds');
  }
  const desk = new ApprovalDesk(core, opts.store ?? createMemoryApprovalStore(), timeout, opts.store !== undefined);
  desks.set(core, desk);
  return desk;
}

/** The approval desk of a core (one with the defaults for a core made without the factory). Internal. */
export function deskOf(core: FactoryCore): ApprovalDesk {
  return desks.get(core) ?? attachApprovalDesk(core);
}
