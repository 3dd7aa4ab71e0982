import { describe, expect, it } from 'vitest';
import { standInAgentContext } from '../../test/support/standInAgentContext.ts';
import { createBuiltinTools } from '../createBuiltinTools.ts';
import { createInMemoryScratchpad } from '../createInMemoryScratchpad.ts';
import { RESEARCH_NOTE_KEY, researchAgent } from './research.ts';

function setupTools(scratchpad = createInMemoryScratchpad()) {
  return createBuiltinTools({
    scratchpad,
    runControl: { activeRuns: () => [], cancelRun: () => false },
    history: { prune: async () => ({ runs: 0, events: 0 }) },
  });
}

function setup() {
  const scratchpad = createInMemoryScratchpad();
  return { scratchpad, ...standInAgentContext({ tools: setupTools(scratchpad) }) };
}

describe('research agent', () => {
  it('searches, summarises the top documents with citations and saves a note for the user', async () => {
    const { ctx, events, scratchpad } = setup();
    const result = await researchAgent.run(researchAgent.input.parse({}), ctx);
    expect(result).toMatchObject({
      question: 'How does Toolrun keep users isolated?',
      note: RESEARCH_NOTE_KEY,
      sources: [expect.objectContaining({ id: 'isolation' }), expect.anything(), expect.anything()],
    });
    expect(String((result as { summary: string }).summary)).toContain('[Isolation between users]');
    expect(events.map((event) => event.type)).toEqual([
      'agent_thinking',
      'tool_executing',
      'tool_completed',
      'agent_thinking',
      'agent_thinking',
      'tool_executing',
      'tool_completed',
    ]);
    await expect(scratchpad.get('alice', RESEARCH_NOTE_KEY)).resolves.toMatchObject({
      question: 'How does Toolrun keep users isolated?',
    });
  });

  it('thinks aloud about what it does and why, naming the documents it found', async () => {
    const { ctx, events } = setup();
    await researchAgent.run(researchAgent.input.parse({ question: 'circuit breaker', saveNote: false }), ctx);
    const thoughts = events.flatMap((event) => (event.type === 'agent_thinking' ? [event.text] : []));
    expect(thoughts[0]).toMatch(/^Looking up "circuit breaker" in the Toolrun docs\. I search before answering/);
    expect(thoughts[1]).toMatch(/"The circuit breaker" \(score [\d.]+\)/);
  });

  it('says the docs have nothing rather than inventing an answer', async () => {
    const { ctx } = setup();
    const result = await researchAgent.run(
      researchAgent.input.parse({ question: 'zzyzx qqqqq', saveNote: false }),
      ctx,
    );
    expect(result).toEqual({
      question: 'zzyzx qqqqq',
      summary: 'The Toolrun docs say nothing about "zzyzx qqqqq".',
      sources: [],
      note: null,
    });
  });

  it('ends gracefully when the search tool fails', async () => {
    const { ctx, events } = standInAgentContext({ tools: [] });
    const result = await researchAgent.run(researchAgent.input.parse({}), ctx);
    expect(result).toMatchObject({ summary: null, error: expect.stringContaining('UNKNOWN_TOOL') });
    expect(events.at(-1)).toMatchObject({ type: 'agent_thinking', text: expect.stringContaining('I stop here') });
  });

  it('still answers when the note cannot be saved, and says why', async () => {
    const { ctx, events } = standInAgentContext({
      tools: setupTools(),
      intercept: (tool, _input, callId) =>
        tool === 'scratchpad'
          ? { callId, status: 'error', error: { code: 'TOOL_FAILED', message: 'disk full' }, durationMs: 1 }
          : undefined,
    });
    const result = await researchAgent.run(researchAgent.input.parse({}), ctx);
    expect(result).toMatchObject({ note: null, summary: expect.stringContaining('[Isolation between users]') });
    expect(events.at(-1)).toMatchObject({ type: 'agent_thinking', text: expect.stringContaining('disk full') });
  });

  it('refuses an empty or over-long question', () => {
    expect(researchAgent.input.safeParse({ question: ' ' }).success).toBe(false);
    expect(researchAgent.input.safeParse({ question: 'x'.repeat(501) }).success).toBe(false);
  });
});
