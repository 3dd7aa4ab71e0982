import { describe, expect, it } from 'vitest';
import { compare } from './measure.ts';

describe('compare', () => {
  it('interleaves the variants, rotating which goes first, and prepares each batch untimed', async () => {
    const calls: string[] = [];
    const samples = await compare({
      opsPerBatch: 4,
      warmupBatches: 1,
      reps: 3,
      maxMs: 60_000,
      variants: ['a', 'b', 'c'].map((name) => ({
        name,
        prepare: (n: number) => {
          calls.push(`${name}:prepare${n}`);
        },
        batch: (n: number) => {
          calls.push(`${name}:${n}`);
        },
      })),
    });
    const batches = calls.filter((c) => !c.includes('prepare'));
    // One warm-up batch each, then rounds a b c, b c a, c a b.
    expect(batches).toEqual(['a:4', 'b:4', 'c:4', 'a:4', 'b:4', 'c:4', 'b:4', 'c:4', 'a:4', 'c:4', 'a:4', 'b:4']);
    expect(calls.filter((c) => c.includes('prepare'))).toHaveLength(12);
    expect(calls[0]).toBe('a:prepare4');
    expect([...samples.keys()]).toEqual(['a', 'b', 'c']);
    for (const values of samples.values()) {
      expect(values).toHaveLength(3);
      for (const v of values) expect(v).toBeGreaterThanOrEqual(0);
    }
  });

  it('stops taking samples when aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    const samples = await compare({
      opsPerBatch: 1,
      warmupBatches: 0,
      reps: 100,
      maxMs: 60_000,
      signal: stop.signal,
      variants: [{ name: 'a', batch: () => {} }],
    });
    expect(samples.get('a')).toEqual([]);
  });

  it('awaits asynchronous batches one after another', async () => {
    let running = 0;
    let overlap = false;
    await compare({
      opsPerBatch: 1,
      warmupBatches: 1,
      reps: 5,
      maxMs: 60_000,
      variants: ['a', 'b'].map((name) => ({
        name,
        async batch() {
          running += 1;
          if (running > 1) overlap = true;
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
        },
      })),
    });
    expect(overlap).toBe(false);
  });
});
