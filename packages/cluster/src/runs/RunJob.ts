import type { QueuedRunRecord } from '@toolrun/db';

/** A BullMQ job of the run queue: its id is the run id, its data the run's durable `queued_runs` row. */
export type RunJobData = QueuedRunRecord;

/** The job options of every run: one attempt, never retried, gone from Redis once done. */
export const RUN_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: true,
  // A failed job (its worker died before the run began) stays a while, so the sweep can end its run.
  removeOnFail: { age: 3_600 },
} as const;
