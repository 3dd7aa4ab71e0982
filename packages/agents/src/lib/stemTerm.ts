// Longest first, so "ations" wins over "s".
const SUFFIXES = [
  'ations',
  'ation',
  'ating',
  'ated',
  'ates',
  'ions',
  'ings',
  'ion',
  'ing',
  'ers',
  'ed',
  'es',
  'er',
  'ly',
  's',
];
const MIN_STEM = 3;

/**
 * A deliberately light English stemmer for search: strips one common suffix, a final "e" and a
 * doubled final consonant, so "isolated" and "isolation" both become "isol" and "cancelled" becomes
 * "cancel". The stem is always a prefix of the word, which keeps snippets easy to highlight.
 */
export function stemTerm(term: string): string {
  let stem = term.toLowerCase();
  if (stem.length <= MIN_STEM + 1) return stem;
  for (const suffix of SUFFIXES) {
    if (stem.endsWith(suffix) && stem.length - suffix.length >= MIN_STEM) {
      stem = stem.slice(0, -suffix.length);
      break;
    }
  }
  if (stem.length > MIN_STEM + 1 && stem.endsWith('e')) stem = stem.slice(0, -1);
  const last = stem.charAt(stem.length - 1);
  if (stem.length > MIN_STEM && /[b-df-hj-np-tv-z]/.test(last) && stem.charAt(stem.length - 2) === last) {
    stem = stem.slice(0, -1);
  }
  return stem;
}
