import type { ApprovalDecision, RateLimiter, RunEvent } from '@toolrun/dispatcher';
import type { RunStarter, RunStarterOptions } from '../starts/createRunStarter.ts';

/**
 * How a cluster (`@toolrun/cluster`) plugs into the services of one process: where runs go, who hears
 * of commits, how the hub learns which users this process serves. Absent: single mode, everything in
 * this process, as before.
 */
export interface ClusterPorts {
  /** Replaces the in-process run starter: runs are made durable here and executed by a worker elsewhere. */
  createStarter?(deps: RunStarterOptions): Promise<RunStarter>;
  /** Told of every batch the sink committed (after the commit), e.g. to publish it to other processes. */
  onCommitted?(events: readonly RunEvent[]): void;
  /**
   * Whether committed events also go straight to this process's hub (default true). A cluster feeds
   * the hub from its tailer instead, so every process sees events in one way, whoever committed them.
   */
  publishToHub?: boolean;
  /**
   * Told when a hub subscription of `userId` (null: an admin's every-user view) opens on this process;
   * the returned function is called once when it ends. A tailer reads the streams of these users.
   */
  watchSubscriptions?(userId: string | null): () => void;
  /**
   * Live feeds take their events from the database, in commit order, each time the hub signals new
   * ones: events committed by several processes can reach the hub out of commit order, and a feed's
   * resume point is a position in that order.
   */
  feedFromDatabase?: boolean;
  /**
   * Per-run leases on PostgreSQL (`@toolrun/db`'s `runLeaseMs`): the runs this process writes are held
   * for this long, renewed while it lives, so a reaper elsewhere can close them if it dies.
   */
  runLeaseMs?: number;
  /** Runs whose lease this process lost: their events were refused (fenced); stop executing them. */
  onFenced?(runIds: readonly string[]): void;
  /** The runs executing across the cluster, for the admin tools. Default: this process's factory's. */
  activeRuns?(): Promise<{ runId: string; userId: string; agent: string; startedAt: string }[]>;
  /** Cancels a run wherever it executes; false when no process runs it. Default: this process's factory. */
  cancelRun?(runId: string, reason: string): Promise<boolean>;
  /**
   * Decides an approval whose call waits in another process (a worker), with that process's checks;
   * rejects with its `DispatchError` (`APPROVAL_NOT_FOUND` when no process holds the call). Asked when
   * this process's factory holds no such call.
   */
  decideApproval?(decision: ApprovalDecision): Promise<void>;
  /**
   * Whether this process executes runs (default true). An API process of a cluster does not: it
   * neither resumes runs parked on approval nor keeps them running at crash recovery (workers adopt
   * and resume them).
   */
  executesRuns?: boolean;
  /**
   * Where the factory's per-user rate-limit buckets live (run starts and tool calls take a token): a
   * cluster shares them across processes. Default: in this process's memory.
   */
  rateLimiter?: RateLimiter;
}
