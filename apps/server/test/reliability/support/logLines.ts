import type { Logger } from 'pino';
import { pino } from 'pino';

/** A pino logger whose JSON lines the test keeps, as the process would write them to stdout. */
export interface CapturedLog {
  readonly logger: Logger;
  /** Every line written so far, parsed. */
  lines(): { level: number; msg?: string; err?: { stack?: string }; [key: string]: unknown }[];
  /** The raw text written so far (one JSON object per line). */
  text(): string;
}

/** Captures a logger's output at `level` (default `debug`: everything a verbose deployment would see). */
export function captureLog(level: pino.LevelWithSilent = 'debug'): CapturedLog {
  const raw: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void raw.push(line) });
  return {
    logger,
    lines: () => raw.flatMap((chunk) => chunk.split('\n').filter((l) => l !== '')).map((l) => JSON.parse(l)),
    text: () => raw.join(''),
  };
}

/**
 * The most lines a rate-limited client-error log may write in `elapsedMs` for `kinds` kinds of
 * mistakes from one client: per window (10 s) and kind, `burst` lines and one summary.
 */
export function boundedLines(
  elapsedMs: number,
  opts: { kinds?: number; burst?: number; windowMs?: number } = {},
): number {
  const windows = Math.ceil(elapsedMs / (opts.windowMs ?? 10_000)) + 1;
  return windows * (opts.kinds ?? 1) * ((opts.burst ?? 3) + 1);
}
