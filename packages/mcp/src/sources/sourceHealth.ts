/** Where a source is: connecting for the first time, connected, down (reconnecting with backoff), closed. */
export type SourceState = 'connecting' | 'ready' | 'down' | 'closed';

/** What `/healthz` and `/metrics` show of one source. Plain JSON. */
export interface SourceHealth {
  readonly name: string;
  readonly transport: 'http' | 'stdio';
  readonly scope: 'shared' | 'user';
  readonly state: SourceState;
  /** Tools of this source in the registry now. */
  readonly tools: number;
  /** Successful (re)connections since start. */
  readonly connects: number;
  /** `scope: 'user'`: processes running now. */
  readonly processes?: number;
  /** The last failure (connecting, listing, a refused refresh), without secrets: no header values. */
  readonly lastError?: string;
}
