import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from './defineAgent.ts';
import { defineTool } from './defineTool.ts';
import type { RunEvent } from './events.ts';
import { createDispatcherFactory } from './factory.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { createMemorySink } from './memorySink.ts';
import { contextFor, sleep } from './testSupport.ts';

const outcome = fc.constantFrom('ok', 'throw', 'hang', 'bad-output');
const call = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      tool: fc.constant('work'),
      input: fc.record({ ms: fc.integer({ min: 0, max: 8 }), outcome }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ tool: fc.constant('add'), input: fc.record({ a: fc.integer(), b: fc.integer() }) }),
  },
  { weight: 1, arbitrary: fc.record({ tool: fc.constant('missing'), input: fc.constant({}) }) },
  { weight: 1, arbitrary: fc.record({ tool: fc.constant('work'), input: fc.constant({ ms: 'soon' }) }) },
);
const step = fc.oneof(
  fc.record({ think: fc.string({ maxLength: 20 }) }),
  fc.record({ parallel: fc.array(fc.record({ call, detach: fc.boolean() }), { minLength: 1, maxLength: 5 }) }),
);
type Step = { think: string } | { parallel: { call: { tool: string; input: unknown }; detach: boolean }[] };
const plan = fc.record({
  steps: fc.array(step, { maxLength: 5 }),
  throwAtEnd: fc.boolean(),
  cancelAfterMs: fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }),
});

function tools() {
  return [
    defineTool({
      name: 'work',
      description: 'Works for a while, then succeeds, throws, hangs or lies',
      input: z.object({ ms: z.number().int().min(0), outcome: z.enum(['ok', 'throw', 'hang', 'bad-output']) }),
      output: z.object({ done: z.literal(true) }),
      access: 'user',
      timeoutMs: 12,
      run: async ({ ms, outcome }, ctx) => {
        if (outcome === 'hang') return new Promise<never>(() => {});
        await sleep(ms, ctx.signal);
        if (outcome === 'throw') throw new Error('work failed');
        return (outcome === 'bad-output' ? { done: 'no' } : { done: true }) as { done: true };
      },
    }),
    defineTool({
      name: 'add',
      description: 'Adds',
      input: z.object({ a: z.number(), b: z.number() }),
      access: 'user',
      run: ({ a, b }) => ({ sum: a + b }),
    }),
  ];
}

const randomAgent = defineAgent({
  name: 'random',
  description: 'Follows a generated plan',
  input: z.object({ steps: z.array(z.any()), throwAtEnd: z.boolean() }),
  async run({ steps, throwAtEnd }, ctx) {
    for (const s of steps as Step[]) {
      if ('think' in s) {
        ctx.think(s.think);
        continue;
      }
      const awaited = s.parallel.map(({ call: c, detach }) => {
        const pending = ctx.callTool(c.tool, c.input);
        return detach ? undefined : pending;
      });
      await Promise.all(awaited);
    }
    if (throwAtEnd) throw new Error('planned failure');
    return { ok: true };
  },
});

function checkRun(events: readonly RunEvent[], last: RunEvent): void {
  expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  expect(events.filter((e) => e.type === 'agent_completed')).toHaveLength(1);
  expect(events.at(-1)).toEqual(last);
}

describe('ordering rules under random load (property)', () => {
  it('agent runs with parallel calls, failures, timeouts, cancels, deadlines and slow sinks always keep the rules', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(plan, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 15, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        async (plans, sinkDelay, deadline, parallel) => {
          const sink = createMemorySink(sinkDelay === 0 ? {} : { delayMs: (b) => (b.length * 7) % (sinkDelay + 1) });
          const factory = createDispatcherFactory({
            tools: tools(),
            agents: [randomAgent],
            sink,
            limits: {
              runDeadlineMs: deadline,
              maxParallelToolCalls: parallel,
              circuitBreaker: { failureThreshold: 3, cooldownMs: 5 },
            },
          });
          const handles = plans.map((p, i) => {
            const handle = factory.startRun({
              context: contextFor(`user-${i}x`),
              agent: 'random',
              input: { steps: p.steps, throwAtEnd: p.throwAtEnd },
            });
            if (p.cancelAfterMs !== undefined) setTimeout(() => handle.cancel('random cancel'), p.cancelAfterMs);
            return handle;
          });
          for (const handle of handles) {
            const last = await handle.done;
            checkRun(sink.events(handle.runId), last);
          }
          expect(factory.liveScopes()).toBe(0);
          expect(factory.stats().contractViolations).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('direct calls with caller signals aborted at random and disposal at a random moment always keep the rules', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ call, abortAfterMs: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 3 }),
        async (calls, disposeAfterMs, sinkDelay) => {
          const sink = createMemorySink(sinkDelay === 0 ? {} : { delayMs: sinkDelay });
          const factory = createDispatcherFactory({ tools: tools(), sink, limits: { maxParallelToolCalls: 4 } });
          const context = contextFor('direct-user');
          const scope = factory.forRequest(context);
          const results = calls.map(({ call: c, abortAfterMs }) => {
            const controller = new AbortController();
            if (abortAfterMs !== undefined) setTimeout(() => controller.abort('random abort'), abortAfterMs);
            return scope.execute(c.tool, c.input, { signal: controller.signal }).catch((e: unknown) => e);
          });
          await sleep(disposeAfterMs);
          await scope[Symbol.asyncDispose]();
          await Promise.all(results);
          const events = sink.events(context.runId);
          const last = events.at(-1);
          if (!last) throw new Error('no events');
          checkRun(events, last);
          expect(factory.liveScopes()).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });
});
