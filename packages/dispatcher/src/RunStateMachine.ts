import type { RunEventBody } from './events.ts';

/** The ordering rules of ARCHITECTURE.md, one name each, as contract violations are counted. */
export const ORDERING_RULES = [
  'first_event_is_agent_started',
  'one_agent_started',
  'nothing_after_agent_completed',
  'call_id_unique',
  'tool_completed_follows_tool_executing',
  'calls_closed_before_agent_completed',
] as const;
export type OrderingRule = (typeof ORDERING_RULES)[number];

/** An event the state machine refused, and why. */
export interface OrderingViolation {
  readonly rule: OrderingRule;
  readonly message: string;
}

/** Where a run is: before `agent_started`, between the two agent events, or after `agent_completed`. */
export type RunPhase = 'new' | 'running' | 'closed';

/** An open call as the machine records it. */
interface OpenRecord {
  readonly callId: string;
  readonly tool: string;
}

// Lets the package's own channel pass a minted call number without a public method.
let acceptMintedCall: (machine: RunStateMachine, event: MachineEvent, minted: number) => OrderingViolation | undefined;

type MachineEvent = Pick<RunEventBody, 'type'> & { callId?: string; tool?: string };

/**
 * The per-run state machine that enforces the ordering rules. `accept` either takes an event
 * (and moves on) or returns the violation and leaves the state as it was. It knows nothing about
 * envelopes, sinks or timing, so the scope, the database and clients can all use it.
 */
export class RunStateMachine {
  #phase: RunPhase = 'new';
  // Calls between tool_executing and tool_completed, oldest first: the oldest in two fields, the
  // rest (rare: parallel calls) in an array. A run has a handful in flight, and most runs one:
  // fields cost no record or array per call.
  #firstOpenId: string | undefined;
  #firstOpenTool = '';
  #moreOpen: OpenRecord[] | undefined;
  // Call ids seen in this run: the first one alone, then a Set. Most runs make one call, and a
  // Set costs far more memory than a string field.
  #firstSeen: string | undefined;
  #seen: Set<string> | undefined;
  // The package's own id source numbers its call ids in increasing order: for those, "not seen
  // before" is "above the last one", with no string hashed or kept (see acceptMintedCall).
  #lastMinted = 0;

  static {
    acceptMintedCall = (machine, event, minted) => machine.#accept(event, minted);
  }

  get phase(): RunPhase {
    return this.#phase;
  }

  /** How many calls have a `tool_executing` but no `tool_completed` yet. */
  get openCount(): number {
    return this.#firstOpenId === undefined ? 0 : 1 + (this.#moreOpen?.length ?? 0);
  }

  /** Calls that have a `tool_executing` but no `tool_completed` yet, oldest first. */
  openCalls(): { callId: string; tool: string }[] {
    if (this.#firstOpenId === undefined) return [];
    const calls = [{ callId: this.#firstOpenId, tool: this.#firstOpenTool }];
    if (this.#moreOpen) for (const call of this.#moreOpen) calls.push({ ...call });
    return calls;
  }

  /**
   * Puts a new machine where a stored run left off: running, with `open` calls between their
   * `tool_executing` and `tool_completed`. For a run resumed after a restart (README, "Approvals").
   */
  restore(open: readonly { callId: string; tool: string }[]): void {
    if (this.#phase !== 'new') throw new Error('only a machine that has seen no event can be restored');
    this.#phase = 'running';
    for (const { callId, tool } of open) this.#accept({ type: 'tool_executing', callId, tool }, 0);
  }

  /** Takes the event if it keeps the rules; otherwise returns the violation and changes nothing. */
  accept(event: MachineEvent): OrderingViolation | undefined {
    return this.#accept(event, 0);
  }

  #accept(event: MachineEvent, minted: number): OrderingViolation | undefined {
    if (this.#phase === 'closed') {
      return { rule: 'nothing_after_agent_completed', message: `${event.type} after agent_completed` };
    }
    if (this.#phase === 'new' && event.type !== 'agent_started') {
      return { rule: 'first_event_is_agent_started', message: `${event.type} before agent_started` };
    }
    switch (event.type) {
      case 'agent_started':
        if (this.#phase !== 'new') return { rule: 'one_agent_started', message: 'a second agent_started' };
        this.#phase = 'running';
        return undefined;
      case 'agent_thinking':
        return undefined;
      case 'tool_executing': {
        const callId = event.callId ?? '';
        if (minted > 0 ? minted <= this.#lastMinted : this.#hasSeen(callId)) {
          return { rule: 'call_id_unique', message: `tool_executing reuses callId ${JSON.stringify(callId)}` };
        }
        if (minted > 0) this.#lastMinted = minted;
        else this.#see(callId);
        const tool = event.tool ?? '';
        if (this.#firstOpenId === undefined) {
          this.#firstOpenId = callId;
          this.#firstOpenTool = tool;
        } else if (this.#moreOpen) this.#moreOpen.push({ callId, tool });
        // A one-item literal: a push onto an empty array would reserve room for 17.
        else this.#moreOpen = [{ callId, tool }];
        return undefined;
      }
      case 'tool_completed': {
        const callId = event.callId ?? '';
        if (!this.#close(callId)) {
          return {
            rule: 'tool_completed_follows_tool_executing',
            message: this.#hasSeen(callId)
              ? `tool_completed twice for callId ${JSON.stringify(callId)}`
              : `tool_completed without tool_executing for callId ${JSON.stringify(callId)}`,
          };
        }
        return undefined;
      }
      case 'agent_completed':
        if (this.#firstOpenId !== undefined) {
          const open = this.openCalls();
          return {
            rule: 'calls_closed_before_agent_completed',
            message: `agent_completed with ${open.length} open tool call(s): ${open.map((c) => c.callId).join(', ')}`,
          };
        }
        this.#phase = 'closed';
        return undefined;
      default: {
        const unreachable: never = event.type;
        throw new Error(`unknown event type ${String(unreachable)}`);
      }
    }
  }

  // Removes an open call, keeping the order of the rest, without allocating.
  #close(callId: string): boolean {
    if (this.#firstOpenId === undefined) return false;
    const more = this.#moreOpen;
    if (this.#firstOpenId === callId) {
      const next = more?.shift();
      this.#firstOpenId = next?.callId;
      this.#firstOpenTool = next?.tool ?? '';
      if (more?.length === 0) this.#moreOpen = undefined;
      return true;
    }
    if (!more) return false;
    const index = more.findIndex((call) => call.callId === callId);
    if (index === -1) return false;
    more.splice(index, 1);
    if (more.length === 0) this.#moreOpen = undefined;
    return true;
  }

  #hasSeen(callId: string): boolean {
    return this.#firstSeen === callId || (this.#seen?.has(callId) ?? false);
  }

  #see(callId: string): void {
    if (this.#firstSeen === undefined) {
      this.#firstSeen = callId;
      return;
    }
    this.#seen ??= new Set();
    this.#seen.add(callId);
  }
}

/**
 * `machine.accept(event)` for a `tool_executing` whose call id the package's own id source
 * numbered `minted` (strictly increasing within a process): its uniqueness is checked on the
 * number. For the package's channel only; not exported from the package.
 */
export function acceptMinted(
  machine: RunStateMachine,
  event: MachineEvent,
  minted: number,
): OrderingViolation | undefined {
  return acceptMintedCall(machine, event, minted);
}
