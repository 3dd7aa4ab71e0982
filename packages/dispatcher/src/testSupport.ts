/**
 * Shared fixtures for this package's tests: real factories with an in-memory sink and metrics.
 * Not exported from the package.
 */
import { z } from 'zod';
import { createUserExecutionContext, type Role, type UserExecutionContext } from './context.ts';
import { defineAgent } from './defineAgent.ts';
import { type AnyTool, defineTool } from './defineTool.ts';
import type { RunEvent } from './events.ts';
import { createDispatcherFactory, type DispatcherFactoryOptions } from './factory.ts';
import type { DispatcherLimitsInput } from './limits/limits.ts';
import { createMemorySink } from './memorySink.ts';
import { createInMemoryMetrics } from './metrics.ts';

let contexts = 0;

/** A fresh, valid context for `userId`. */
export function contextFor(userId = 'alice', roles: readonly Role[] = ['user']): UserExecutionContext {
  contexts += 1;
  return createUserExecutionContext({
    userId,
    threadId: `thread-${userId}`,
    runId: `run-${userId}-${contexts}`,
    roles,
  });
}

/** Waits until `condition` holds, checking every few milliseconds; throws after `timeoutMs` (a hang guard). */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('waitFor: the condition never held');
    await sleep(2);
  }
}

/** A clock that moves only when told to. */
export function manualClock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    monotonic: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Records what each tool saw, for assertions about signals and contexts. */
export interface ToolLog {
  signals: AbortSignal[];
  contexts: UserExecutionContext[];
}

/** A toolbox covering every path: success, failure, slowness, hanging, admin, secrets, bad output. */
export function testTools(log: ToolLog = { signals: [], contexts: [] }): AnyTool[] {
  return [
    defineTool({
      name: 'add',
      description: 'Adds two numbers',
      input: z.object({ a: z.number(), b: z.number() }),
      output: z.object({ sum: z.number() }),
      access: 'user',
      run: ({ a, b }, ctx) => {
        log.contexts.push(ctx.context);
        return { sum: a + b };
      },
    }),
    defineTool({
      name: 'sleep',
      description: 'Waits, honouring its signal',
      input: z.object({ ms: z.number().int().nonnegative() }),
      access: 'user',
      timeoutMs: 300,
      run: async ({ ms }, ctx) => {
        log.signals.push(ctx.signal);
        await sleep(ms, ctx.signal);
        return { slept: ms };
      },
    }),
    defineTool({
      name: 'hang',
      description: 'Never finishes and ignores its signal',
      input: z.object({}),
      access: 'user',
      timeoutMs: 30,
      run: () => new Promise<never>(() => {}),
    }),
    defineTool({
      name: 'block',
      description: 'Never finishes, ignores its signal, and has a long timeout',
      input: z.object({}),
      access: 'user',
      timeoutMs: 60_000,
      run: () => new Promise<never>(() => {}),
    }),
    defineTool({
      name: 'fail',
      description: 'Always throws',
      input: z.object({ message: z.string().default('boom') }),
      access: 'user',
      run: ({ message }) => {
        throw new Error(message);
      },
    }),
    defineTool({
      name: 'flaky',
      description: 'Fails while told to',
      input: z.object({ fail: z.boolean() }),
      access: 'user',
      run: async ({ fail }) => {
        if (fail) throw new Error('flaky failure');
        return { ok: true };
      },
    }),
    defineTool({
      name: 'purge',
      description: 'Admin only',
      input: z.object({}),
      access: 'admin',
      run: () => ({ purged: true }),
    }),
    defineTool({
      name: 'vault',
      description: 'Echoes input with a secret and a sensitive field',
      input: z.object({ account: z.string(), pin: z.string(), apiKey: z.string().optional() }),
      access: 'user',
      sensitive: ['pin', 'ssn'],
      run: ({ account }) => ({ account, ssn: '123-45-6789', token: 'tok_live_1', note: 'x'.repeat(50) }),
    }),
    defineTool({
      name: 'liar',
      description: 'Returns output that breaks its own schema',
      input: z.object({}),
      output: z.object({ n: z.number() }),
      access: 'user',
      run: () => ({ n: 'not a number' }) as unknown as { n: number },
    }),
  ];
}

/** Agents for runner tests. */
export const testAgents = [
  defineAgent({
    name: 'planner',
    description: 'Thinks, then calls add twice in parallel and sleep once',
    input: z.object({ n: z.number() }),
    async run({ n }, ctx) {
      ctx.think(`planning for ${n}`);
      const [a, b] = await Promise.all([ctx.callTool('add', { a: n, b: 1 }), ctx.callTool('add', { a: n, b: 2 })]);
      ctx.think('sleeping');
      const s = await ctx.callTool('sleep', { ms: 1 });
      return { a: a.status, b: b.status, s: s.status };
    },
  }),
  defineAgent({
    name: 'thrower',
    description: 'Fails after a tool call',
    input: z.object({}),
    async run(_input, ctx) {
      await ctx.callTool('add', { a: 1, b: 1 });
      throw new Error('the agent broke');
    },
  }),
  defineAgent({
    name: 'stubborn',
    description: 'Ignores its signal, keeps a tool call open and never returns',
    input: z.object({}),
    async run(_input, ctx) {
      ctx.think('starting');
      void ctx.callTool('block', {});
      await new Promise(() => {});
      return null;
    },
  }),
  defineAgent({
    name: 'abandoner',
    description: 'Starts a slow call and returns without awaiting it',
    input: z.object({}),
    run(_input, ctx) {
      void ctx.callTool('sleep', { ms: 500 });
      return { left: 'early' };
    },
  }),
  defineAgent({
    name: 'root',
    description: 'Admins only',
    input: z.object({}),
    access: 'admin',
    run: () => ({ ok: true }),
  }),
];

/** A real factory with an in-memory sink and in-memory metrics. */
export function testFactory(
  opts: {
    limits?: DispatcherLimitsInput;
    log?: ToolLog;
    sink?: DispatcherFactoryOptions['sink'];
    tools?: AnyTool[];
    clock?: DispatcherFactoryOptions['clock'];
    toolSwitch?: DispatcherFactoryOptions['toolSwitch'];
    rateLimiter?: DispatcherFactoryOptions['rateLimiter'];
  } = {},
) {
  const memory = createMemorySink();
  const metrics = createInMemoryMetrics();
  const factory = createDispatcherFactory({
    tools: opts.tools ?? testTools(opts.log),
    agents: testAgents,
    sink: opts.sink ?? memory,
    metrics,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.toolSwitch ? { toolSwitch: opts.toolSwitch } : {}),
    ...(opts.rateLimiter ? { rateLimiter: opts.rateLimiter } : {}),
  });
  return { factory, sink: memory, metrics };
}

/** `type` of each event, with the tool call status where there is one: a compact sequence to compare. */
export function shape(events: readonly RunEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'tool_executing':
        return `tool_executing:${e.tool}`;
      case 'tool_completed':
        return `tool_completed:${e.tool}:${e.status}`;
      case 'agent_completed':
        return `agent_completed:${e.status}`;
      case 'agent_started':
      case 'agent_thinking':
        return e.type;
      default: {
        const unreachable: never = e;
        return String(unreachable);
      }
    }
  });
}
