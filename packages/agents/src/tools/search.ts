import { defineTool } from '@toolrun/dispatcher';
import MiniSearch from 'minisearch';
import { z } from 'zod';
import { type CorpusDocument, TOOLRUN_DOCS } from '../corpus/toolrunDocs.ts';
import { bestSentence } from '../lib/bestSentence.ts';
import { stemTerm } from '../lib/stemTerm.ts';

/** The search tool's input. */
export const searchInput = z
  .object({
    query: z.string().trim().min(1).max(200).describe('Words to look for; typos and word prefixes are tolerated'),
    limit: z.number().int().min(1).max(10).default(5).describe('How many results to return, best first'),
  })
  .strict();

/** One search hit. `score` is MiniSearch's BM25+ relevance, rounded to 3 decimals. */
export interface SearchHit {
  id: string;
  title: string;
  score: number;
  /** The document's sentence that contains the most matched terms. */
  snippet: string;
  /** The document's index terms that matched (words and their stems, after fuzzy and prefix matching). */
  terms: string[];
}

// Words so common that matching them says nothing about a document's topic.
const STOP_WORDS: ReadonlySet<string> = new Set(
  'a about after an and are as at be by can do does for from how i if in is it its my of on or so that the their then there these this to was what when where which who why will with you your'.split(
    ' ',
  ),
);

// Both the word and its stem are indexed and searched: the stem joins "isolated" to "isolation",
// the whole word keeps typo tolerance ("isolaton" is one edit from "isolation", four from "isol").
function processTerm(term: string): string | string[] | null {
  const lower = term.toLowerCase();
  if (STOP_WORDS.has(lower)) return null;
  const stem = stemTerm(lower);
  return stem === lower ? lower : [lower, stem];
}

/**
 * `search`: full-text search with MiniSearch (BM25+, light stemming, fuzzy and prefix matching, titles
 * boosted) over
 * a corpus shipped with the package: by default {@link TOOLRUN_DOCS}, Toolrun's own concepts.
 * Output `{ query, total, results: SearchHit[] }`. The index is built once, when the tool is created,
 * and only read afterwards, so scopes share nothing mutable.
 */
export function createSearchTool(opts: { documents?: readonly CorpusDocument[] } = {}) {
  const index = new MiniSearch<CorpusDocument>({
    fields: ['title', 'text'],
    storeFields: ['title', 'text'],
    processTerm,
    searchOptions: { boost: { title: 2 }, fuzzy: 0.2, prefix: true, combineWith: 'OR' },
  });
  index.addAll([...(opts.documents ?? TOOLRUN_DOCS)]);

  return defineTool({
    name: 'search',
    description:
      "Searches Toolrun's documentation (events, isolation, limits, circuit breaker, cancel, resume, " +
      'persistence, audits, tools, agents, redaction, admin, metrics) and returns the best matches with a snippet.',
    input: searchInput,
    access: 'user',
    timeoutMs: 2_000,
    run({ query, limit }) {
      const matches = index.search(query);
      const results: SearchHit[] = matches.slice(0, limit).map((match) => ({
        id: String(match.id),
        title: String(match.title),
        score: Math.round(match.score * 1000) / 1000,
        snippet: bestSentence(String(match.text), match.terms),
        terms: match.terms,
      }));
      return { query, total: matches.length, results };
    },
  });
}
