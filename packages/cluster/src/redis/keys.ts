/** The Redis keys and channels of one cluster, all under one prefix (default `toolrun`). */
export interface ClusterKeys {
  /** The stream of one user's committed events. */
  userEvents(userId: string): string;
  /** The stream of every user's committed events (admins' every-user view). */
  readonly allEvents: string;
  /** Pub/sub channel of run cancels. */
  readonly cancels: string;
  /** Pub/sub channels of approval decisions relayed to the worker whose call waits, and of its answers. */
  readonly approvalRequests: string;
  readonly approvalReplies: string;
  /** Hash of the runs one worker executes (run id -> JSON), with a TTL the worker renews. */
  workerRuns(workerId: string): string;
  /** Pattern of every worker's run hash. */
  readonly workerRunsPattern: string;
  /** The worker executing one run (its id), with the TTL of the worker's hash: one lookup by run id. */
  runWorker(runId: string): string;
  /** Sorted set of a user's concurrent-run slots (member run id, score lease expiry). */
  userSlots(userId: string): string;
  /** Hash of a user's shared rate-limit bucket (`level`, `at`), expiring once it would be full again. */
  userRate(userId: string): string;
  /** Held by the one process sweeping the queued runs (`SET NX PX`). */
  readonly sweepLock: string;
  /** The BullMQ queue's name and prefix. */
  readonly queueName: string;
  readonly queuePrefix: string;
}

/** The keys under `prefix`; user ids are safe in keys (ids are validated, and keys are binary-safe). */
export function clusterKeys(prefix = 'toolrun'): ClusterKeys {
  return {
    userEvents: (userId) => `${prefix}:events:user:${userId}`,
    allEvents: `${prefix}:events:all`,
    cancels: `${prefix}:cancels`,
    approvalRequests: `${prefix}:approvals`,
    approvalReplies: `${prefix}:approval-replies`,
    workerRuns: (workerId) => `${prefix}:worker-runs:${workerId}`,
    workerRunsPattern: `${prefix}:worker-runs:*`,
    runWorker: (runId) => `${prefix}:run-worker:${runId}`,
    userSlots: (userId) => `${prefix}:slots:${userId}`,
    userRate: (userId) => `${prefix}:rate:${userId}`,
    sweepLock: `${prefix}:sweep-lock`,
    queueName: 'runs',
    queuePrefix: `${prefix}:bull`,
  };
}
