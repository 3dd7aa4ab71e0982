import { eventId, type RunEvent } from './events.ts';
import { type OrderingViolation, RunStateMachine } from './RunStateMachine.ts';

/** A problem found in a recorded sequence of one run's events. */
export interface SequenceViolation {
  /** Index in the sequence of the event at fault, or the sequence's length for a run left open. */
  readonly index: number;
  readonly rule:
    | OrderingViolation['rule']
    | 'seq_without_gaps'
    | 'id_matches_seq'
    | 'same_run_and_user'
    | 'run_finished';
  readonly message: string;
}

/**
 * Checks a recorded sequence of ONE run's events, as a sink, a database or a client received it,
 * against the ordering rules and the envelope rules (seq 1, 2, 3 … without gaps, `id` is
 * `${runId}:${seq}`, one run, user and thread). With `finished: true` the run must also be closed
 * by its last event. Returns every violation found; an empty array means the sequence is valid.
 *
 * @example
 * expect(findOrderingViolations(sink.eventsOf(runId), { finished: true })).toEqual([]);
 */
export function findOrderingViolations(
  events: readonly RunEvent[],
  opts: { finished?: boolean } = {},
): SequenceViolation[] {
  const violations: SequenceViolation[] = [];
  const machine = new RunStateMachine();
  const first = events[0];
  events.forEach((event, index) => {
    if (event.seq !== index + 1) {
      violations.push({ index, rule: 'seq_without_gaps', message: `seq ${event.seq} at position ${index + 1}` });
    }
    if (event.id !== eventId(event.runId, event.seq)) {
      violations.push({ index, rule: 'id_matches_seq', message: `id ${event.id} for seq ${event.seq}` });
    }
    if (first && (event.runId !== first.runId || event.userId !== first.userId || event.threadId !== first.threadId)) {
      violations.push({
        index,
        rule: 'same_run_and_user',
        message: `event ${event.id} belongs to another run or user`,
      });
    }
    const violation = machine.accept(event);
    if (violation) violations.push({ index, ...violation });
  });
  if (opts.finished && machine.phase !== 'closed') {
    violations.push({ index: events.length, rule: 'run_finished', message: 'the run has no agent_completed' });
  }
  return violations;
}
