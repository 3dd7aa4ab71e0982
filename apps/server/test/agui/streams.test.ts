import type { BaseEvent } from '@ag-ui/client';
import { EventType, HttpAgent } from '@ag-ui/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startTestServer } from '../helpers.ts';
import {
  aguiClient,
  eventOf,
  FrameReader,
  finishedRun,
  post,
  runInput,
  runWithClient,
  toolrunOf,
  userMessage,
  verifiedEvents,
} from './support.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let alice: string;
let bob: string;

beforeAll(async () => {
  // Long enough that a run never gets cancelled by a test's timing: the cancel tests use servers of their own.
  server = await startTestServer({ aguiCancelAfterCloseMs: 600_000 });
  alice = await login(server.url, 'alice');
  bob = await login(server.url, 'bob');
});
afterAll(async () => {
  await server.stop();
});

function reattach(runId: string, token: string, lastEventId?: string, how: 'header' | 'query' = 'header') {
  const query = how === 'query' && lastEventId !== undefined ? `?lastEventId=${encodeURIComponent(lastEventId)}` : '';
  return fetch(`${server.url}/agui/runs/${encodeURIComponent(runId)}${query}`, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'text/event-stream',
      ...(how === 'header' && lastEventId !== undefined ? { 'Last-Event-ID': lastEventId } : {}),
    },
  });
}

describe('many users at once', () => {
  it('two users running at the same time never see each other’s events', async () => {
    const runs = await Promise.all(
      [alice, bob, alice, bob].map(async (token) => {
        const agent = aguiClient(server.url, 'parallel', token);
        agent.addMessage(userMessage('fan out'));
        const outcome = await runWithClient(agent);
        return { token, agent, outcome };
      }),
    );
    const owners = new Map<string, string>();
    for (const { token, agent, outcome } of runs) {
      expect(outcome.warnings).toEqual([]);
      const runIds = new Set(outcome.events.map((e) => toolrunOf(e).runId));
      expect(runIds.size).toBe(1);
      const [runId] = [...runIds];
      if (runId === undefined) throw new Error('no run');
      owners.set(runId, token);
      const events = await finishedRun(server.url, token, runId);
      expect(new Set(events.map((e) => e.userId))).toEqual(new Set([token === alice ? 'alice' : 'bob']));
      expect(new Set(events.map((e) => e.threadId))).toEqual(new Set([agent.threadId]));
    }
    expect(owners.size).toBe(4);
    expect(server.services.ledger.report().crossUserDeliveries).toEqual([]);
  });
});

describe('stopping', () => {
  it('HttpAgent.abortRun() cancels the run, which still ends with its events in history', async () => {
    const quick = await startTestServer({ aguiCancelAfterCloseMs: 0 });
    try {
      const token = await login(quick.url, 'alice');
      const agent = aguiClient(quick.url, 'slow', token);
      agent.addMessage(userMessage('go'));
      let runId: string | undefined;
      const running = agent.runAgent(
        { forwardedProps: { input: { steps: 100, delayMs: 500 } } },
        {
          onToolCallStartEvent: ({ event }) => {
            runId = toolrunOf(event).runId;
            agent.abortRun();
          },
        },
      );
      await running.catch(() => undefined);
      if (runId === undefined) throw new Error('the tool call never started');
      const events = await finishedRun(quick.url, token, runId);
      const last = events.at(-1);
      expect(last?.type === 'agent_completed' && last.status).toBe('cancelled');
      expect(events.find((e) => e.type === 'tool_completed')).toMatchObject({ status: 'cancelled' });
    } finally {
      await quick.stop();
    }
  });

  it('a closed connection cancels after the wait, unless a client reattached by then: a drop is not a stop', async () => {
    const short = await startTestServer({ aguiCancelAfterCloseMs: 1_500 });
    try {
      const token = await login(short.url, 'alice');
      const body = runInput('go', { forwardedProps: { input: { steps: 100, delayMs: 100 } } });
      // Dropped and never reattached: cancelled.
      const dropped = new AbortController();
      const first = new FrameReader(await post(`${short.url}/agui/slow`, body, token, {}, dropped.signal));
      const started = await first.until((f) => eventOf(f).type === EventType.TOOL_CALL_START);
      dropped.abort();
      const cancelled = await finishedRun(short.url, token, toolrunOf(started.data).runId);
      expect(cancelled.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
      // Dropped, then reattached: the run goes on to its end.
      const body2 = runInput('go', { forwardedProps: { input: { steps: 5, delayMs: 200 } } });
      const drop2 = new AbortController();
      const second = new FrameReader(await post(`${short.url}/agui/slow`, body2, token, {}, drop2.signal));
      const open = await second.until((f) => f.id !== undefined && eventOf(f).type === EventType.TOOL_CALL_END);
      const runId = toolrunOf(open.data).runId;
      drop2.abort();
      const rest = await verifiedEvents(
        await fetch(`${short.url}/agui/runs/${runId}`, {
          headers: { Authorization: `Bearer ${token}`, 'Last-Event-ID': open.id ?? '' },
        }),
      );
      expect(rest.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
    } finally {
      await short.stop();
    }
  });
});

describe('reattach, beyond AG-UI 1.0', () => {
  it('from several points mid-run gives a prelude a fresh client accepts, then exactly the rest', async () => {
    const body = runInput('fan out', { forwardedProps: { input: { slowSteps: 8 } } });
    const live = new FrameReader(await post(`${server.url}/agui/parallel`, body, alice));
    // Reattach while the slow task (the first call) is still running, at the last id seen so far.
    const firstCall = await live.until((f) => f.id !== undefined && eventOf(f).type === EventType.TOOL_CALL_END);
    const runId = toolrunOf(firstCall.data).runId;
    const midway = reattach(runId, alice, firstCall.id);
    const fromStart = reattach(runId, alice, `${runId}:1`, 'query');
    const whole = await live.done;
    const ids = whole.flatMap((frame) => (frame.id === undefined ? [] : [frame.id]));
    // Every third point before the last event (after the last there is nothing to send: checked below).
    const points = [firstCall.id, ...ids.slice(0, -1).filter((_, i) => i % 3 === 1)];
    const attempts = [
      { point: firstCall.id, response: midway },
      { point: `${runId}:1`, response: fromStart },
      ...points.map((point) => ({ point, response: reattach(runId, alice, point) })),
    ];
    for (const { point, response } of attempts) {
      const events = await verifiedEvents(await response);
      const seq = Number(String(point).split(':').at(-1));
      const expected = whole.map(eventOf).filter((e) => toolrunOf(e).seq > seq);
      const prelude = events.slice(0, events.length - expected.length);
      expect(events.slice(prelude.length)).toEqual(expected);
      expect(prelude[0]?.type).toBe(EventType.RUN_STARTED);
      // The prelude reopens exactly the calls started at or before the point and not yet answered.
      const before = whole.map(eventOf).filter((e) => toolrunOf(e).seq <= seq);
      const answered = new Set(before.filter((e) => e.type === EventType.TOOL_CALL_RESULT).map((e) => e.toolCallId));
      const open = before
        .filter((e) => e.type === EventType.TOOL_CALL_START && !answered.has(e.toolCallId))
        .map((e) => e.toolCallId);
      expect(prelude.filter((e) => e.type === EventType.TOOL_CALL_START).map((e) => e.toolCallId)).toEqual(open);
    }
    // At the last event there is nothing more to send.
    const end = await reattach(runId, alice, ids.at(-1));
    expect(end.status).toBe(200);
    expect(await end.text()).toBe('');
  });

  it('a fresh HttpAgent pointed at the reattach URL runs the rest with no warning', async () => {
    const body = runInput('go', { forwardedProps: { input: { steps: 4, delayMs: 150 } } });
    const live = new FrameReader(await post(`${server.url}/agui/slow`, body, alice));
    const open = await live.until((f) => f.id !== undefined && eventOf(f).type === EventType.TOOL_CALL_END);
    const runId = toolrunOf(open.data).runId;
    const fresh = new HttpAgent({
      url: `${server.url}/agui/runs/${runId}`,
      // AG-UI 1.0 has no reattach, so HttpAgent POSTs; this fetch turns its request into the GET.
      fetch: (url) => fetch(url, { headers: { Authorization: `Bearer ${alice}`, 'Last-Event-ID': open.id ?? '' } }),
    });
    const outcome = await runWithClient(fresh);
    expect(outcome.warnings).toEqual([]);
    const whole = (await live.done).map(eventOf);
    expect(outcome.events.at(-1)).toEqual(whole.at(-1));
    expect(outcome.result).toEqual((whole.at(-1) as BaseEvent).result);
  });
});
