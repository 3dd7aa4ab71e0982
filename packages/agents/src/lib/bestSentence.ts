const SENTENCE_END = /(?<=[.!?])\s+/;

function escapeRegExp(term: string): string {
  return term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The sentence of `text` that contains the most distinct `terms` (matched at word starts, any case);
 * the first sentence wins ties and is the answer when nothing matches. Cut to `maxLength` with `…`.
 */
export function bestSentence(text: string, terms: readonly string[], maxLength = 240): string {
  const patterns = [...new Set(terms.map((term) => term.toLowerCase()))]
    .filter((term) => term.length > 0)
    .map((term) => new RegExp(`\\b${escapeRegExp(term)}`, 'i'));
  let best = '';
  let bestScore = -1;
  for (const sentence of text.split(SENTENCE_END)) {
    const score = patterns.filter((pattern) => pattern.test(sentence)).length;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return best.length <= maxLength ? best : `${best.slice(0, maxLength - 1).trimEnd()}…`;
}
