import type { AppRouter, RunEvent } from '@toolrun/api';
import { findOrderingViolations } from '@toolrun/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';

/** What one canary run found. */
export interface CanaryResult {
  readonly ok: boolean;
  /** ISO-8601 start of the check. */
  readonly at: string;
  /** From `runs.start` to the last event received, in milliseconds. */
  readonly latencyMs: number;
  readonly runId: string | undefined;
  /** Why it failed; empty when `ok`. */
  readonly problems: readonly string[];
}

/** The golden path's question and the answer it must produce. */
export const CANARY_AGENT = 'calculator';
const QUESTION = 'What is 6*7?';
const EXPECTED = 42;
const EVENT_TYPES: readonly RunEvent['type'][] = [
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_completed',
  'agent_completed',
];

/**
 * Runs the golden path once, as a client would: over HTTP to this server's own `/trpc` with `token`,
 * `runs.start` of the calculator agent, its events over SSE to `agent_completed`, then checks that the
 * five events came, in an order the contract allows, with gapless seq, every tool call successful and
 * the answer right. Never throws: every failure is a problem in the result.
 */
export async function runCanary(opts: { url: string; token: string; timeoutMs: number }): Promise<CanaryResult> {
  const at = new Date().toISOString();
  const started = performance.now();
  const problems: string[] = [];
  const trpcUrl = `${opts.url}/trpc`;
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: trpcUrl, EventSource, connectionParams: { token: opts.token } }),
        false: httpBatchLink({ url: trpcUrl, headers: { authorization: `Bearer ${opts.token}` } }),
      }),
    ],
  });
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  let runId: string | undefined;
  const events: RunEvent[] = [];
  try {
    ({ runId } = await client.runs.start.mutate(
      { agent: CANARY_AGENT, input: { question: QUESTION } },
      { signal: timeout },
    ));
    const id = runId;
    await new Promise<void>((resolve, reject) => {
      const subscription = client.runs.events.subscribe(
        { runId: id },
        {
          onData: ({ data }) => events.push(...data),
          onComplete: resolve,
          onError: reject,
        },
      );
      timeout.addEventListener(
        'abort',
        () => {
          subscription.unsubscribe();
          reject(new Error(`no agent_completed within ${opts.timeoutMs} ms`));
        },
        { once: true },
      );
    });
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  const latencyMs = performance.now() - started;
  if (runId !== undefined && problems.length === 0) problems.push(...checkEvents(events));
  return { ok: problems.length === 0, at, latencyMs, runId, problems };
}

function checkEvents(events: readonly RunEvent[]): string[] {
  const problems = findOrderingViolations(events, { finished: true }).map((v) => `${v.rule}: ${v.message}`);
  const seen = new Set(events.map((e) => e.type));
  for (const type of EVENT_TYPES) if (!seen.has(type)) problems.push(`no ${type} event`);
  for (const event of events) {
    if (event.type === 'tool_completed' && event.status !== 'success') {
      problems.push(
        `tool ${event.tool} ended ${event.status}: ${event.error?.code ?? ''} ${event.error?.message ?? ''}`,
      );
    }
  }
  const last = events.at(-1);
  if (last?.type === 'agent_completed') {
    if (last.status !== 'completed') problems.push(`the run ended ${last.status}: ${last.error?.message ?? ''}`);
    else if (!answers(last.result)) problems.push(`wrong answer: ${JSON.stringify(last.result)}`);
  }
  return problems;
}

function answers(result: unknown): boolean {
  if (typeof result !== 'object' || result === null || !('results' in result)) return false;
  const results = (result as { results: unknown }).results;
  return Array.isArray(results) && results.some((r) => typeof r === 'object' && r !== null && r.result === EXPECTED);
}
