/** One way to deploy the server for the cluster benchmark. */
export interface DeploymentConfig {
  /** The figure ids' `<config>`: `single-sqlite`, `single-pg`, `1api1w`, `2api2w`… */
  readonly name: string;
  readonly label: string;
  /** `single`: one `TOOLRUN_ROLE=all` process; `cluster`: API and worker processes on PostgreSQL + Redis. */
  readonly mode: 'single' | 'cluster';
  readonly database: 'sqlite' | 'postgres';
  /** API and worker processes (cluster mode); 1 and 1 for single mode, which is both in one process. */
  readonly apis: number;
  readonly workers: number;
}

/** A single-mode deployment: one process doing everything. */
export function single(database: 'sqlite' | 'postgres'): DeploymentConfig {
  return {
    name: database === 'sqlite' ? 'single-sqlite' : 'single-pg',
    label: `single mode (TOOLRUN_ROLE=all) on ${database === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
    mode: 'single',
    database,
    apis: 1,
    workers: 1,
  };
}

/** A cluster: `apis` API processes and `workers` worker processes on one PostgreSQL and one Redis. */
export function cluster(apis: number, workers: number): DeploymentConfig {
  if (!Number.isInteger(apis) || !Number.isInteger(workers) || apis < 1 || workers < 1) {
    throw new Error(`a cluster needs at least one API and one worker process, not ${apis} and ${workers}`);
  }
  return {
    name: `${apis}api${workers}w`,
    label: `cluster, ${apis} API + ${workers} worker process${workers === 1 ? '' : 'es'}`,
    mode: 'cluster',
    database: 'postgres',
    apis,
    workers,
  };
}

/** How many OS processes of the server a deployment runs (not counting PostgreSQL and Redis). */
export function serverProcesses(config: DeploymentConfig): number {
  return config.mode === 'single' ? 1 : config.apis + config.workers;
}

/** The fair baseline of every cluster figure: single mode on the same PostgreSQL. */
export const BASELINE = 'single-pg';

/**
 * The deployments of a run, baseline first. "One more process" is a third worker: on this machine
 * the workers are where most of the cluster's CPU goes (they commit to PostgreSQL and publish to
 * Redis; see BENCHMARKS.md, "Cluster mode"); `extra` picks the other one (`api`: a third API process).
 */
export function deploymentsFor(quick: boolean, extra: 'worker' | 'api' = 'worker'): DeploymentConfig[] {
  if (quick) return [single('postgres'), cluster(2, 2)];
  return [
    single('postgres'),
    single('sqlite'),
    cluster(1, 1),
    cluster(2, 2),
    extra === 'worker' ? cluster(2, 3) : cluster(3, 2),
  ];
}
