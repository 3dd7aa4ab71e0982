/** The size of a streamed event as JSON, in bytes, as in ANCHORS.md. */
export const EVENT_BYTES = 300;

const PAD = 'streaming the same payload over every transport so that only the transport differs; ';

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The `agent_thinking` text of a streamed event: the emit time, a `|`, then padding so that the
 * whole event is about {@link EVENT_BYTES} as JSON. `envelopeBytes` is the JSON length of the
 * event without its text.
 */
export function thinkingText(emittedAt: number, envelopeBytes: number): string {
  const stamp = `${emittedAt.toFixed(3)}|`;
  const room = Math.max(0, EVENT_BYTES - envelopeBytes - stamp.length);
  return stamp + PAD.repeat(Math.ceil(room / PAD.length)).slice(0, room);
}

/** The emit time written by {@link thinkingText}, or `NaN`. */
export function emittedAtOf(text: string): number {
  const bar = text.indexOf('|');
  return bar === -1 ? Number.NaN : Number(text.slice(0, bar));
}

/** JSON length of an `agent_thinking` event with these ids and an empty text (seq and time at typical width). */
export function envelopeBytes(ids: { runId: string; userId: string; threadId: string }): number {
  return JSON.stringify({
    id: `${ids.runId}:100`,
    seq: 100,
    runId: ids.runId,
    userId: ids.userId,
    threadId: ids.threadId,
    at: new Date(0).toISOString(),
    type: 'agent_thinking',
    text: '',
    step: 100,
  }).length;
}
