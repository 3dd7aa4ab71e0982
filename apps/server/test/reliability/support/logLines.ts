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
