import type { RunPage, RunRecord } from '@toolrun/db';
import { isServiceIdentity, SERVICE_USER_IDS } from '../serviceIdentities.ts';
import type { ToolrunServices } from '../services.ts';
import type { QueuedRunInfo } from './createRunStarter.ts';

/** A run as `runs.list` and `runs.get` show it: stored, or waiting in its user's queue with its position. */
export type ListedRun = Omit<RunRecord, 'status'> & {
  status: RunRecord['status'] | 'queued';
  /** Present exactly when `status` is `queued`: 1 is the next of its user's runs to start. */
  queued?: { position: number };
};

/** A queued run in the shape of a stored one: no events yet, so `lastSeq` 0 and no result. */
export function queuedRunRecord({ record, position }: QueuedRunInfo): ListedRun {
  return {
    id: record.runId,
    userId: record.userId,
    threadId: record.threadId,
    agent: record.agent,
    input: JSON.parse(record.input),
    status: 'queued',
    result: null,
    error: null,
    // When it was accepted: it has not started yet.
    startedAt: new Date(record.enqueuedAt).toISOString(),
    finishedAt: null,
    durationMs: null,
    toolCalls: 0,
    lastSeq: 0,
    queued: { position },
  };
}

/**
 * `runs.list`: queued runs first (they are the newest, and bounded per user), on the first page
 * only, then the stored runs, paged as before. The first page holds up to `limit` runs, or all the
 * queued runs and one stored run when more than `limit` are queued.
 */
export async function listRunsWithQueued(
  services: ToolrunServices,
  opts: {
    limit: number;
    userId: string | undefined;
    cursor?: string | undefined;
    status?: string | undefined;
    agent?: string | undefined;
  },
): Promise<{ items: ListedRun[]; nextCursor: string | null }> {
  const wantsQueued = opts.cursor === undefined && (opts.status === undefined || opts.status === 'queued');
  const queued = wantsQueued
    ? (await services.starter.listQueued(opts.userId))
        .filter((q) => opts.agent === undefined || q.record.agent === opts.agent)
        // The all-users view leaves service identities (the canary) out.
        .filter((q) => opts.userId !== undefined || !isServiceIdentity(q.record.userId))
        .reverse()
        .sort((a, b) => b.record.enqueuedAt - a.record.enqueuedAt)
        .map(queuedRunRecord)
    : [];
  if (opts.status === 'queued') return { items: queued, nextCursor: null };
  const page: RunPage = await services.db.listRuns({
    limit: Math.max(1, opts.limit - queued.length),
    ...(opts.userId === undefined ? { excludeUserIds: SERVICE_USER_IDS } : { userId: opts.userId }),
    ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
    ...(opts.status === undefined ? {} : { status: opts.status as RunRecord['status'] }),
    ...(opts.agent === undefined ? {} : { agent: opts.agent }),
  });
  return { items: [...queued, ...page.items], nextCursor: page.nextCursor };
}
