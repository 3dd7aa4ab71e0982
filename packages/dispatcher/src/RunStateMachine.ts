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

/**
 * The per-run state machine that enforces the ordering rules. `accept` either takes an event
 * (and moves on) or returns the violation and leaves the state as it was. It knows nothing about
 * envelopes, sinks or timing, so the scope, the database and clients can all use it.
 */
export class RunStateMachine {
  #phase: RunPhase = 'new';
  // Calls between tool_executing and tool_completed, oldest first. A short array, not a Map: a run
  // has a handful in flight, and a Map that is added to and emptied on every call keeps rehashing.
  #open: { callId: string; tool: string }[] = [];
  // Call ids seen in this run: the first one alone, then a Set. Most runs make one call, and a
  // Set costs far more memory than a string field.
  #firstSeen: string | undefined;
  #seen: Set<string> | undefined;

  get phase(): RunPhase {
    return this.#phase;
  }

  /** How many calls have a `tool_executing` but no `tool_completed` yet. */
  get openCount(): number {
    return this.#open.length;
  }

  /** Calls that have a `tool_executing` but no `tool_completed` yet, oldest first. */
  openCalls(): { callId: string; tool: string }[] {
    return this.#open.map((call) => ({ ...call }));
  }

  /** Takes the event if it keeps the rules; otherwise returns the violation and changes nothing. */
  accept(event: Pick<RunEventBody, 'type'> & { callId?: string; tool?: string }): OrderingViolation | undefined {
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
        if (this.#hasSeen(callId)) {
          return { rule: 'call_id_unique', message: `tool_executing reuses callId ${JSON.stringify(callId)}` };
        }
        this.#see(callId);
        const call = { callId, tool: event.tool ?? '' };
        // A one-item literal: a push onto an empty array would reserve room for 17.
        if (this.#open.length === 0) this.#open = [call];
        else this.#open.push(call);
        return undefined;
      }
      case 'tool_completed': {
        const callId = event.callId ?? '';
        if (!removeCall(this.#open, callId)) {
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
        if (this.#open.length > 0) {
          return {
            rule: 'calls_closed_before_agent_completed',
            message: `agent_completed with ${this.#open.length} open tool call(s): ${this.#open.map((c) => c.callId).join(', ')}`,
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

// Removes the call in place, keeping the order, without allocating.
function removeCall<T extends { callId: string }>(open: T[], callId: string): boolean {
  const index = open.findIndex((call) => call.callId === callId);
  if (index === -1) return false;
  for (let i = index; i < open.length - 1; i++) open[i] = open[i + 1] as T;
  open.pop();
  return true;
}
