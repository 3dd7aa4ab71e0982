import type { RunEvent } from '@toolrun/dispatcher';
import { DbError } from './errors.ts';

/** Fenced runs a pipeline remembers; an older one's late write is still refused, by the database's check. */
const MAX_FENCED_RUNS = 10_000;

/**
 * The runs whose lease this process lost (PostgreSQL with run leases), so that their later writes are
 * refused before they reach a transaction. Bounded: the oldest are forgotten first.
 */
export interface FencedRuns {
  /** The runs of `events` that are fenced (empty when none). */
  lost(events: readonly RunEvent[]): string[];
  add(runIds: Iterable<string>): void;
  remove(runIds: Iterable<string>): void;
}

/** See {@link FencedRuns}. */
export function createFencedRuns(): FencedRuns {
  const runs = new Set<string>();
  return {
    lost: (events) => (runs.size === 0 ? [] : runsOf(events).filter((runId) => runs.has(runId))),
    add(runIds) {
      for (const runId of runIds) {
        runs.delete(runId);
        runs.add(runId);
        if (runs.size > MAX_FENCED_RUNS) {
          const oldest = runs.values().next();
          if (oldest.done !== true) runs.delete(oldest.value);
        }
      }
    },
    remove(runIds) {
      for (const runId of runIds) runs.delete(runId);
    },
  };
}

/** The refusal of a fenced run's write: the run is (being) closed by another process. */
export function fencedError(runIds: Iterable<string>): DbError {
  return new DbError(
    'RUN_FINISHED',
    `this process no longer holds the lease of run ${[...runIds].join(', ')}: another process closes it`,
  );
}

/** The distinct run ids of a write's events. */
export function runsOf(events: readonly RunEvent[]): string[] {
  const first = events[0]?.runId;
  if (events.every((event) => event?.runId === first)) return typeof first === 'string' ? [first] : [];
  return [...new Set(events.map((event) => event?.runId).filter((id): id is string => typeof id === 'string'))];
}
