import { defineAgent } from '@toolrun/dispatcher';
import { z } from 'zod';
import { describeFailure, outputOf } from '../lib/toolResults.ts';

/** The scratchpad key where the research agent saves its last summary. */
export const RESEARCH_NOTE_KEY = 'research-last';

const searchOutput = z.object({
  total: z.number(),
  results: z.array(z.object({ id: z.string(), title: z.string(), score: z.number(), snippet: z.string() })),
});

/** The research agent's input. */
export const researchInput = z
  .object({
    question: z.string().trim().min(1).max(500).default('How does Toolrun keep users isolated?'),
    maxSources: z.number().int().min(1).max(5).default(3).describe('How many documents the summary draws on'),
    saveNote: z.boolean().default(true).describe(`Save the summary to the scratchpad under "${RESEARCH_NOTE_KEY}"`),
  })
  .strict();

/**
 * `research`: searches Toolrun's docs for the question (fuzzy, any of its words), summarises the
 * most relevant sentence of each top document (citing titles), and saves the summary to the user's
 * scratchpad. Thinks aloud between the steps. No model: the summary is
 * built from the search results, so it is deterministic.
 */
export const researchAgent = defineAgent({
  name: 'research',
  description: "Searches Toolrun's documentation, then summarises what it found and saves a note.",
  input: researchInput,
  async run({ question, maxSources, saveNote }, ctx) {
    ctx.think(
      `Looking up "${question}" in the Toolrun docs. I search before answering so that the summary rests on ` +
        'what the documentation says, not on a guess.',
    );
    const result = await ctx.callTool('search', { query: question, limit: maxSources });
    const found = outputOf(result, searchOutput);
    ctx.signal.throwIfAborted();
    if (found === undefined) {
      ctx.think(`The search did not work (${describeFailure(result)}), so I cannot ground an answer; I stop here.`);
      return { question, summary: null, sources: [], note: null, error: describeFailure(result) };
    }
    if (found.results.length === 0) {
      ctx.think(
        'The docs have nothing on this, so there is nothing to summarise; I say so rather than invent an answer.',
      );
      return { question, summary: `The Toolrun docs say nothing about "${question}".`, sources: [], note: null };
    }

    const titles = found.results.map((hit) => `"${hit.title}" (score ${hit.score})`).join(', ');
    ctx.think(
      `${found.total} document${found.total === 1 ? '' : 's'} matched; the best ${found.results.length} are ${titles}. ` +
        'I take the sentence of each that matches the question best and cite its title.',
    );
    const summary = found.results.map((hit) => `${hit.snippet} [${hit.title}]`).join(' ');
    const sources = found.results.map(({ id, title, score }) => ({ id, title, score }));

    let note: string | null = null;
    if (saveNote) {
      ctx.think(`Saving the summary to your scratchpad under "${RESEARCH_NOTE_KEY}" so a later run can pick it up.`);
      const saved = await ctx.callTool('scratchpad', {
        op: 'set',
        key: RESEARCH_NOTE_KEY,
        value: { question, summary, sources: sources.map((source) => source.id) },
      });
      ctx.signal.throwIfAborted();
      if (saved.status === 'success') note = RESEARCH_NOTE_KEY;
      else ctx.think(`Could not save the note (${describeFailure(saved)}); the summary stands without it.`);
    }
    return { question, summary, sources, note };
  },
});
