/**
 * Sizes of the reliability suite. The CI sizes run inside the server's normal `vitest run`; the soak
 * sizes run with `pnpm test:soak` (which sets `TOOLRUN_SOAK=1`). Every size can be overridden by an
 * environment variable, in both modes; RELIABILITY.md lists them.
 */
export interface ReliabilityParams {
  /** Whether this is the soak run (`TOOLRUN_SOAK=1`). */
  readonly soak: boolean;
  /** Seed of every random choice (agents, cancels, disconnects, fuzzing), printed in every report. */
  readonly seed: number;
  /** Load test: virtual users in total (`SOAK_USERS`). */
  readonly users: number;
  /** Load test: runs each user starts, one after another (`SOAK_RUNS_PER_USER`). */
  readonly runsPerUser: number;
  /** Load test: users active at the same time; the others wait their turn (`SOAK_CONCURRENT_USERS`). */
  readonly concurrentUsers: number;
  /** Load test: probability that a run is cancelled by its owner (`SOAK_CANCEL_RATE`). */
  readonly cancelRate: number;
  /** Load test: probability that a subscription drops and resumes, checked at every message (`SOAK_DISCONNECT_RATE`). */
  readonly disconnectRate: number;
  /** Load test: how often the server cuts a random live stream (ms between cuts; `SOAK_CUT_EVERY_MS`). */
  readonly cutEveryMs: number;
  /** Load test: hang guard for the whole load (`SOAK_LOAD_TIMEOUT_MS`). */
  readonly loadTimeoutMs: number;
  /** Crash test: SIGKILLs of the child server (`SOAK_CRASHES`). */
  readonly crashes: number;
  /** Crash test: users driving load while the server is killed (`SOAK_CRASH_USERS`). */
  readonly crashUsers: number;
  /** Crash test: hang guard for the whole test (`SOAK_CRASH_TIMEOUT_MS`). */
  readonly crashTimeoutMs: number;
  /** Hostile input: fast-check runs per property (`SOAK_FUZZ_RUNS`). */
  readonly fuzzRuns: number;
  /** Slow consumers: events the stuck user's runs produce (`SOAK_STUCK_EVENTS`). */
  readonly stuckEvents: number;
  /** Cluster load: virtual users in total (`SOAK_CLUSTER_USERS`). */
  readonly clusterUsers: number;
  /** Cluster load: runs each user starts, one after another (`SOAK_CLUSTER_RUNS_PER_USER`). */
  readonly clusterRunsPerUser: number;
  /** Cluster load: users active at the same time (`SOAK_CLUSTER_CONCURRENT_USERS`). */
  readonly clusterConcurrentUsers: number;
  /** Cluster load: the run lease of the workers, how soon a killed worker's runs are closed (`SOAK_CLUSTER_LEASE_MS`). */
  readonly clusterLeaseMs: number;
  /** Cluster load: hang guard for the whole load (`SOAK_CLUSTER_TIMEOUT_MS`). */
  readonly clusterTimeoutMs: number;
}

const CI: Omit<ReliabilityParams, 'soak' | 'seed'> = {
  users: 100,
  runsPerUser: 2,
  concurrentUsers: 100,
  cancelRate: 0.15,
  disconnectRate: 0.05,
  cutEveryMs: 150,
  loadTimeoutMs: 120_000,
  crashes: 3,
  crashUsers: 20,
  crashTimeoutMs: 150_000,
  fuzzRuns: 40,
  stuckEvents: 10_000,
  clusterUsers: 40,
  clusterRunsPerUser: 2,
  clusterConcurrentUsers: 40,
  clusterLeaseMs: 3_000,
  clusterTimeoutMs: 120_000,
};

const SOAK: Omit<ReliabilityParams, 'soak' | 'seed'> = {
  users: 1_000,
  runsPerUser: 5,
  concurrentUsers: 250,
  cancelRate: 0.15,
  disconnectRate: 0.05,
  cutEveryMs: 100,
  loadTimeoutMs: 1_800_000,
  crashes: 50,
  crashUsers: 60,
  crashTimeoutMs: 1_800_000,
  fuzzRuns: 2_000,
  stuckEvents: 60_000,
  clusterUsers: 1_000,
  clusterRunsPerUser: 5,
  clusterConcurrentUsers: 250,
  clusterLeaseMs: 3_000,
  clusterTimeoutMs: 1_800_000,
};

const VARIABLES: Readonly<Record<keyof typeof CI, string>> = {
  users: 'SOAK_USERS',
  runsPerUser: 'SOAK_RUNS_PER_USER',
  concurrentUsers: 'SOAK_CONCURRENT_USERS',
  cancelRate: 'SOAK_CANCEL_RATE',
  disconnectRate: 'SOAK_DISCONNECT_RATE',
  cutEveryMs: 'SOAK_CUT_EVERY_MS',
  loadTimeoutMs: 'SOAK_LOAD_TIMEOUT_MS',
  crashes: 'SOAK_CRASHES',
  crashUsers: 'SOAK_CRASH_USERS',
  crashTimeoutMs: 'SOAK_CRASH_TIMEOUT_MS',
  fuzzRuns: 'SOAK_FUZZ_RUNS',
  stuckEvents: 'SOAK_STUCK_EVENTS',
  clusterUsers: 'SOAK_CLUSTER_USERS',
  clusterRunsPerUser: 'SOAK_CLUSTER_RUNS_PER_USER',
  clusterConcurrentUsers: 'SOAK_CLUSTER_CONCURRENT_USERS',
  clusterLeaseMs: 'SOAK_CLUSTER_LEASE_MS',
  clusterTimeoutMs: 'SOAK_CLUSTER_TIMEOUT_MS',
};

/**
 * Reads the sizes: the CI defaults, or the soak defaults with `TOOLRUN_SOAK=1`, each overridden by
 * its variable when set. Throws on a value that is not a non-negative number, so a typo does not
 * silently run the default.
 */
export function reliabilityParams(env: NodeJS.ProcessEnv = process.env): ReliabilityParams {
  const soak = env.TOOLRUN_SOAK === '1' || env.TOOLRUN_SOAK === 'true';
  const base = soak ? SOAK : CI;
  const out: Record<string, number> = {};
  for (const key of Object.keys(VARIABLES) as (keyof typeof CI)[]) {
    out[key] = numberFrom(env, VARIABLES[key], base[key]);
  }
  const seed = numberFrom(env, 'SOAK_SEED', soak ? Date.now() % 2_147_483_647 : 20_261_129);
  return { soak, seed, ...(out as Omit<ReliabilityParams, 'soak' | 'seed'>) };
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
}
