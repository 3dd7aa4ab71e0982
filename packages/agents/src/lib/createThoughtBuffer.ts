/** Gathers streamed text deltas into readable thoughts. */
export interface ThoughtBuffer {
  /** Adds a delta; emits the complete sentences or lines gathered so far once there are enough. */
  push(delta: string): void;
  /** Emits whatever is left (at the end of a stream). */
  flush(): void;
}

// The end of a sentence (punctuation, maybe a closing quote or bracket, then white space) or a line.
const BOUNDARY = /[.!?:;]["')\]]?\s+|\n+/g;

function lastBoundary(text: string): number {
  let end = -1;
  for (const match of text.matchAll(BOUNDARY)) end = match.index + match[0].length;
  return end;
}

/**
 * Coalesces a model's token deltas into `agent_thinking`-sized chunks: nothing is emitted until at
 * least `minChars` have gathered, then everything up to the last sentence or line boundary goes out
 * as one thought; past `maxChars` the text goes out even without a boundary. One event per token
 * would flood the console and the event store; one per sentence or paragraph reads like thinking.
 */
export function createThoughtBuffer(
  emit: (text: string) => void,
  opts: { minChars?: number; maxChars?: number } = {},
): ThoughtBuffer {
  const minChars = opts.minChars ?? 80;
  const maxChars = opts.maxChars ?? 1_000;
  let buffer = '';
  const send = (text: string): void => {
    const trimmed = text.trim();
    if (trimmed.length > 0) emit(trimmed);
  };
  return {
    push(delta) {
      buffer += delta;
      if (buffer.length < minChars) return;
      const end = lastBoundary(buffer);
      if (end > 0) {
        send(buffer.slice(0, end));
        buffer = buffer.slice(end);
      } else if (buffer.length >= maxChars) {
        send(buffer);
        buffer = '';
      }
    },
    flush() {
      send(buffer);
      buffer = '';
    },
  };
}
