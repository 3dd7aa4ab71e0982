import type { BaseEvent, Message } from '@ag-ui/client';
import { HttpAgent, runHttpRequest, transformHttpEventStream, verifyEvents } from '@ag-ui/client';
import type { RunEvent } from '@toolrun/api';
import { vi } from 'vitest';
import { createClient } from '../helpers.ts';

/** An official AG-UI client for `agent` on a test server, signed in with `token`. */
export function aguiClient(baseUrl: string, agent: string, token: string, threadId?: string): HttpAgent {
  return new HttpAgent({
    url: `${baseUrl}/agui/${agent}`,
    headers: { Authorization: `Bearer ${token}` },
    ...(threadId === undefined ? {} : { threadId }),
  });
}

/** A user message as an AG-UI client keeps it. */
export function userMessage(content: string, id = `m-${Math.random().toString(36).slice(2)}`): Message {
  return { id, role: 'user', content };
}

/**
 * Runs `agent` through `HttpAgent.runAgent()`, collecting every event it applied and every warning the
 * client printed while enforcing and verifying them (there must be none).
 */
export async function runWithClient(agent: HttpAgent, params: Parameters<HttpAgent['runAgent']>[0] = {}) {
  const events: BaseEvent[] = [];
  const warn = vi.spyOn(console, 'warn');
  try {
    const outcome = await agent.runAgent(params, {
      onEvent: ({ event }) => {
        events.push(event);
      },
    });
    return { ...outcome, events, warnings: warn.mock.calls.map((call) => call.map(String).join(' ')) };
  } finally {
    warn.mockRestore();
  }
}

/** A valid `RunAgentInput` body for a raw request. */
export function runInput(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    threadId: `thread-${Math.random().toString(36).slice(2)}`,
    runId: `client-run-${Math.random().toString(36).slice(2)}`,
    messages: [userMessage(text)],
    tools: [],
    context: [],
    forwardedProps: {},
    ...extra,
  };
}

/** `fetch` of an AG-UI endpoint with a JSON body (or raw text) and a token. */
export function post(
  url: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  return fetch(url, {
    method: 'POST',
    ...(signal === undefined ? {} : { signal }),
    headers: {
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * The AG-UI events of a raw response, read by the client's own stream parser and checked by its own
 * `verifyEvents` (which rejects on any invalid sequence).
 */
export async function verifiedEvents(response: Response): Promise<BaseEvent[]> {
  const events$ = verifyEvents(false)(transformHttpEventStream(runHttpRequest(() => Promise.resolve(response))));
  return new Promise<BaseEvent[]>((resolve, reject) => {
    const events: BaseEvent[] = [];
    events$.subscribe({ next: (event) => events.push(event), error: reject, complete: () => resolve(events) });
  });
}

/** One SSE frame as written on the wire. */
export interface Frame {
  id: string | undefined;
  data: unknown;
}

/** Splits raw SSE text into frames (LF framing only, as the AG-UI client reads it); comments skipped. */
export function framesOf(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((block) => block.split('\n').some((line) => line.startsWith('data:')))
    .map((block) => {
      const lines = block.split('\n');
      const id = lines
        .find((line) => line.startsWith('id:'))
        ?.slice(3)
        .trim();
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      return { id, data: JSON.parse(data) as unknown };
    });
}

/** Reads a raw SSE response frame by frame, as it arrives. */
export class FrameReader {
  readonly frames: Frame[] = [];
  readonly done: Promise<Frame[]>;
  #waiters: (() => void)[] = [];

  constructor(response: Response) {
    const body = response.body;
    if (body === null) throw new Error('no body');
    this.done = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          const blocks = buffer.split('\n\n');
          buffer = blocks.pop() ?? '';
          this.frames.push(...framesOf(blocks.map((block) => `${block}\n\n`).join('')));
          for (const wake of this.#waiters.splice(0)) wake();
        }
      } finally {
        for (const wake of this.#waiters.splice(0)) wake();
      }
      return this.frames;
    })();
  }

  /** Resolves once a frame matching `test` has arrived (rejects if the stream ends first). */
  async until(test: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(test);
      if (found !== undefined) return found;
      const ended = await Promise.race([
        this.done.then(() => true),
        new Promise<false>((resolve) => this.#waiters.push(() => resolve(false))),
      ]);
      if (ended) {
        const last = this.frames.find(test);
        if (last !== undefined) return last;
        throw new Error('the stream ended first');
      }
    }
  }
}

/** The `metadata.toolrun` of an AG-UI event. */
export function toolrunOf(event: unknown): { runId: string; id: string; seq: number } {
  return (event as { metadata: { toolrun: { runId: string; id: string; seq: number } } }).metadata.toolrun;
}

/** The AG-UI event of a frame. */
export function eventOf(frame: Frame): BaseEvent {
  return frame.data as BaseEvent;
}

/** A run's events through Toolrun's own tRPC stream (`runs.events`), once the run has ended. */
export async function finishedRun(baseUrl: string, token: string, runId: string): Promise<RunEvent[]> {
  const { client, close } = createClient(baseUrl, { transport: 'sse', token });
  const events: RunEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    client.runs.events.subscribe(
      { runId },
      { onData: (message) => events.push(...message.data), onComplete: resolve, onError: reject },
    );
  });
  close();
  return events;
}
