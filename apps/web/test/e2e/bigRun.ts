import type { RunEvent } from '@toolrun/api';

/** A finished run of `n` events (thinking and tool calls between start and end), in seq order. */
export function bigRun(runId: string, userId: string, n: number): RunEvent[] {
  const t0 = Date.now() - n;
  const env = (seq: number) => ({
    id: `${runId}:${seq}`,
    seq,
    runId,
    userId,
    threadId: `thread_${runId}`,
    at: new Date(t0 + seq).toISOString(),
  });
  const events: RunEvent[] = [{ ...env(1), type: 'agent_started', agent: 'research', input: { question: 'big' } }];
  let calls = 0;
  let step = 0;
  for (let seq = 2; seq < n; ) {
    if (seq + 2 < n) {
      calls++;
      const callId = `call_${calls}`;
      events.push({ ...env(seq++), type: 'agent_thinking', text: `step ${step + 1}`, step: ++step });
      events.push({
        ...env(seq++),
        type: 'tool_executing',
        callId,
        tool: 'calculator',
        input: { expression: `${calls}+1` },
      });
      events.push({
        ...env(seq++),
        type: 'tool_completed',
        callId,
        tool: 'calculator',
        status: 'success',
        output: { value: calls + 1 },
        durationMs: 1,
      });
    } else {
      events.push({ ...env(seq++), type: 'agent_thinking', text: 'wrapping up', step: ++step });
    }
  }
  events.push({
    ...env(n),
    type: 'agent_completed',
    status: 'completed',
    result: { calls },
    durationMs: n,
    toolCalls: calls,
  });
  return events;
}
