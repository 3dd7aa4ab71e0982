// The last millisecond formatted and its text: events emitted in the same millisecond share it.
let lastMs = Number.NaN;
let lastText = '';

/**
 * `new Date(ms).toISOString()`, cached for the last millisecond asked for: a burst of events
 * stamped within one millisecond formats the date once. A different millisecond (later or
 * earlier) is formatted afresh, so the text is always exactly that of `ms`.
 */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}
