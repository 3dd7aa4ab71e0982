import { abortReason, callStatusOf, type OpenCall } from '../ActiveRun.ts';
import type { UserExecutionContext } from '../context.ts';
import type { ToolResult } from '../defineAgent.ts';
import type { ToolApprovers } from '../defineTool.ts';
import { DispatchError } from '../errors.ts';
import type { ApprovalInfo } from '../events.ts';
import type { CircuitBreaker } from '../limits/CircuitBreaker.ts';
import type { ToolCall } from '../ToolCall.ts';
import type { ApprovalSettlement } from './ApprovalStore.ts';

// setTimeout cannot wait longer than this: a later expiry re-arms the timer on the way.
const MAX_TIMER_MS = 2_147_483_647;

/** What a gate needs from its factory's approval desk. */
export interface GateHost {
  readonly now: () => number;
  /** The gate stopped waiting (settled, cancelled): forget it. */
  release(gate: ApprovalGate): void;
  /** The approval's deadline passed: settle it as expired, unless a decision won first. */
  expire(gate: ApprovalGate): void;
  /** The run stopped: the approval is cancelled in the store (first settlement wins). */
  cancelled(gate: ApprovalGate, reason: string): void;
}

/**
 * One tool call waiting for a person's approval: an open call of its run between its
 * `tool_executing` and `tool_completed`, with no timer but the approval's deadline (the tool's own
 * timeout starts when it runs; the run's deadline is parked). It emits the approval's
 * `agent_thinking` events, then runs the tool when approved, or completes it `denied`
 * (`APPROVAL_DENIED`, `APPROVAL_EXPIRED`) or `cancelled` with its run. Internal.
 */
export class ApprovalGate implements OpenCall {
  readonly id: string;
  readonly ownerId: string;
  readonly approvers: ToolApprovers;
  readonly expiresAtMs: number;
  /** Resolves once the store holds the pending approval; decisions wait for it. */
  created: Promise<void> = Promise.resolve();
  #info: ApprovalInfo;
  #done = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: ((result: ToolResult) => void) | undefined;
  readonly #result: Promise<ToolResult>;

  constructor(
    readonly host: GateHost,
    readonly call: ToolCall,
    readonly context: UserExecutionContext,
    readonly data: unknown,
    readonly breaker: CircuitBreaker,
    readonly callerSignal: AbortSignal | undefined,
    info: ApprovalInfo,
    opts: { approvers: ToolApprovers; expiresAtMs: number },
  ) {
    this.id = info.id;
    this.ownerId = context.userId;
    this.#info = info;
    this.approvers = opts.approvers;
    this.expiresAtMs = opts.expiresAtMs;
    this.#result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The approval as its last event showed it. */
  get info(): ApprovalInfo {
    return this.#info;
  }

  get settled(): boolean {
    return this.#done;
  }

  /** Starts waiting: the call is open in its run, the `requested` thought is emitted, the deadline armed. */
  open(text: string): Promise<ToolResult> {
    const { call } = this;
    call.run.addCall(this);
    call.owner?.addChild(this);
    call.run.park();
    this.callerSignal?.addEventListener('abort', this, { once: true });
    call.run.think(text, { approval: this.#info });
    this.#arm();
    return this.#result;
  }

  #arm(): void {
    const left = this.expiresAtMs - this.host.now();
    if (left <= 0) {
      this.host.expire(this);
      return;
    }
    this.#timer = setTimeout(ApprovalGate.#due, Math.min(left, MAX_TIMER_MS), this);
  }

  // Static, with the gate as the timer's argument: no closure per timer.
  static #due(gate: ApprovalGate): void {
    gate.#timer = undefined;
    if (!gate.#done) gate.#arm();
  }

  /** For the caller's signal (the gate is its listener): the caller gave up on the call. */
  handleEvent(): void {
    const signal = this.callerSignal;
    this.interrupt(new DispatchError('CANCELLED', signal ? abortReason(signal).message : 'cancelled'));
  }

  /**
   * A settlement won in the store (a decision, or the deadline): emits its thought, then runs the
   * tool (approved) or completes the call `denied`.
   */
  settle(settlement: ApprovalSettlement): void {
    if (this.#done) return;
    this.#leave();
    const { state, decidedBy, reason } = settlement;
    const info: ApprovalInfo = { ...this.#info, state };
    if (decidedBy !== undefined) info.decidedBy = decidedBy;
    if (reason !== undefined) info.reason = reason;
    this.#info = info;
    const { call } = this;
    const tool = call.tool;
    const by = decidedBy ?? 'someone';
    const because = reason === undefined || reason === '' ? '' : `: ${reason}`;
    switch (state) {
      case 'approved':
        call.run.think(`${by} approved ${tool}; it runs now.`, { approval: info });
        void call.start(this.context, this.data, this.breaker, this.callerSignal).then(this.#resolve);
        return;
      case 'denied': {
        call.run.think(`${by} denied ${tool}${because}. It will not run.`, { approval: info });
        const message = `${by} denied this call${because}`;
        this.#resolve?.(call.refuse({ status: 'denied', code: 'APPROVAL_DENIED', message }));
        return;
      }
      case 'expired': {
        call.run.think(`Nobody decided on ${tool} before ${info.expiresAt}; it will not run.`, { approval: info });
        const message = `nobody approved this call before ${info.expiresAt}`;
        this.#resolve?.(call.refuse({ status: 'denied', code: 'APPROVAL_EXPIRED', message }));
        return;
      }
      case 'cancelled':
        this.interrupt(new DispatchError('CANCELLED', reason ?? 'the approval was cancelled'));
        return;
      default: {
        const unreachable: never = state;
        throw new Error(`unknown approval state ${String(unreachable)}`);
      }
    }
  }

  /** The run (or the caller) stops while the call waits: the approval is cancelled, the call ends. */
  interrupt(reason: DispatchError): void {
    if (this.#done) return;
    this.#leave();
    this.host.cancelled(this, reason.message);
    const info: ApprovalInfo = { ...this.#info, state: 'cancelled', reason: reason.message };
    this.#info = info;
    const { call } = this;
    call.run.think(`The approval of ${call.tool} is cancelled: ${reason.message}.`, { approval: info });
    const failure = { status: callStatusOf(reason), code: reason.code, message: reason.message };
    this.#resolve?.(call.refuse(failure));
  }

  /**
   * Shutdown: stops waiting in this process without an event or a store write, so the approval stays
   * pending in the store and the next process resumes the call (README, "Approvals").
   */
  suspend(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.callerSignal?.removeEventListener('abort', this);
    this.host.release(this);
  }

  /** The call failed before anyone could decide (the store refused the approval). */
  fail(message: string): void {
    if (this.#done) return;
    this.#leave();
    this.#resolve?.(this.call.refuse({ status: 'error', code: 'SINK_FAILED', message }));
  }

  #leave(): void {
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const { call } = this;
    this.callerSignal?.removeEventListener('abort', this);
    call.run.removeCall(this);
    call.owner?.removeChild(this);
    call.run.unpark();
    this.host.release(this);
  }
}
