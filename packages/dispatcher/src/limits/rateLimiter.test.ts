import { describe, expect, it } from 'vitest';
import type { TokenBucketLimits } from '../limits/limits.ts';
import type { RateLimiter } from '../ports.ts';
import { runAgent } from '../runAgent.ts';
import { contextFor, manualClock, shape, testAgents, testFactory } from '../testSupport.ts';

interface Take {
  userId: string;
  limits: TokenBucketLimits;
  now: number;
}

/** A port that records every take and answers from `answers` in turn (0: allowed). */
function recordingLimiter(answers: number[]): RateLimiter & { takes: Take[] } {
  const takes: Take[] = [];
  return {
    takes,
    take(userId, limits, now) {
      takes.push({ userId, limits, now });
      return answers.shift() ?? 0;
    },
  };
}

const planner = testAgents[0];

describe('the RateLimiter port', () => {
  it('decides every run start and tool call of a factory given one, with the user, their role’s limits and the clock’s monotonic time', async () => {
    const clock = manualClock(5_000);
    // The run start, then one of the planner's two parallel adds is refused, then the sleep.
    const limiter = recordingLimiter([0, 0, 250, 0]);
    const { factory, sink, metrics } = testFactory({
      clock,
      rateLimiter: limiter,
      limits: { rateLimit: { user: { capacity: 7, refillPerSecond: 3 } } },
    });
    const context = contextFor('ruth');
    await using scope = factory.forRequest(context);
    if (planner === undefined) throw new Error('the planner test agent is missing');
    const completed = await runAgent(scope, planner, { n: 1 });
    expect(completed.status).toBe('completed');
    expect(limiter.takes).toEqual(
      Array.from({ length: 4 }, () => ({ userId: 'ruth', limits: { capacity: 7, refillPerSecond: 3 }, now: 5_000 })),
    );
    const refused = sink.events(context.runId).find((e) => e.type === 'tool_completed' && e.status === 'denied');
    expect(refused).toMatchObject({ error: { code: 'RATE_LIMITED', message: 'rate limit reached; retry in 250 ms' } });
    expect(metrics.snapshot().limitHits.RATE_LIMITED).toBe(1);
  });

  it('refuses a run start the port refuses (RATE_LIMITED with retryAfterMs), and admins take from their role’s limits', async () => {
    const limiter = recordingLimiter([40]);
    const { factory } = testFactory({
      rateLimiter: limiter,
      limits: { rateLimit: { admin: { capacity: 9, refillPerSecond: 4 } } },
    });
    await using scope = factory.forRequest(contextFor('boss', ['user', 'admin']));
    if (planner === undefined) throw new Error('the planner test agent is missing');
    await expect(runAgent(scope, planner, { n: 1 })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterMs: 40 },
    });
    expect(limiter.takes).toMatchObject([{ userId: 'boss', limits: { capacity: 9, refillPerSecond: 4 } }]);
  });

  it('is not asked when the rate limit is switched off (capacity Infinity)', async () => {
    const limiter = recordingLimiter([]);
    const { factory, sink } = testFactory({
      rateLimiter: limiter,
      limits: { rateLimit: { user: { capacity: Number.POSITIVE_INFINITY } } },
    });
    const context = contextFor('ivy');
    await using scope = factory.forRequest(context);
    expect((await scope.execute('add', { a: 1, b: 2 })).status).toBe('success');
    expect(shape(sink.events(context.runId))).toContain('tool_completed:add:success');
    expect(limiter.takes).toEqual([]);
  });
});
