import { describe, expect, it } from 'vitest';
import { toolRunContext } from '../../test/support/toolRunContext.ts';
import { createSearchTool } from './search.ts';

const search = createSearchTool();
const run = async (input: unknown) => search.run(search.input.parse(input), toolRunContext({ userId: 'alice' }));

describe('search tool', () => {
  it('ranks the document about the topic first and quotes the sentence that matches', async () => {
    const output = await run({ query: 'circuit breaker' });
    expect(output.results[0]).toMatchObject({ id: 'circuit-breaker', title: 'The circuit breaker' });
    expect(output.results[0]?.snippet).toMatch(/circuit breaker/i);
    expect(output.total).toBeGreaterThanOrEqual(output.results.length);
  });

  it('tolerates typos (fuzzy) and word prefixes', async () => {
    expect((await run({ query: 'persistance' })).results[0]?.id).toBe('persistence');
    expect((await run({ query: 'circut' })).results[0]?.id).toBe('circuit-breaker');
    expect((await run({ query: 'redact' })).results[0]?.id).toBe('redaction');
  });

  it('joins word forms by stemming, so "isolated" finds the document about isolation', async () => {
    const output = await run({ query: 'How does Toolrun keep users isolated?' });
    expect(output.results[0]?.id).toBe('isolation');
    expect(output.results[0]?.terms).toContain('isol');
  });

  it('returns at most limit results, best first, with scores', async () => {
    const output = await run({ query: 'run events agent tool', limit: 3 });
    expect(output.results).toHaveLength(3);
    const scores = output.results.map((hit) => hit.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(scores.every((score) => score > 0)).toBe(true);
  });

  it('ignores stop words, so a question finds its topic rather than every document with "the"', async () => {
    const output = await run({ query: 'How do I resume a stream after a disconnect?' });
    expect(output.results[0]?.id).toBe('resume');
  });

  it('returns no results for words the corpus does not contain', async () => {
    await expect(run({ query: 'zzzqqq' })).resolves.toEqual({ query: 'zzzqqq', total: 0, results: [] });
  });

  it('searches a custom corpus when given one', async () => {
    const custom = createSearchTool({ documents: [{ id: 'x', title: 'Kittens', text: 'Kittens purr.' }] });
    const output = await custom.run(custom.input.parse({ query: 'kitten' }), toolRunContext({ userId: 'alice' }));
    expect(output.results).toEqual([
      expect.objectContaining({ id: 'x', snippet: 'Kittens purr.', terms: expect.arrayContaining(['kitten']) }),
    ]);
  });

  it('bounds its input and defaults the limit', () => {
    expect(search.input.safeParse({ query: '' }).success).toBe(false);
    expect(search.input.safeParse({ query: 'x'.repeat(201) }).success).toBe(false);
    expect(search.input.safeParse({ query: 'x', limit: 11 }).success).toBe(false);
    expect(search.input.parse({ query: 'events' })).toEqual({ query: 'events', limit: 5 });
  });
});
