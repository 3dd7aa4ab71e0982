/** What the queue needs of an entry: the run it is and the user it waits for. */
export interface QueueEntry {
  readonly runId: string;
  readonly userId: string;
}

/**
 * The per-user run queues, in memory: first in, first out per user, every user's queue independent
 * of the others (one user's backlog never delays another's runs). Bounds are the caller's to check
 * (`size`), so that a restart can restore a queue as it was. Positions are 1-based. Pure: no timers,
 * no I/O; the run starter keeps the durable copy.
 */
export class RunQueue<T extends QueueEntry> {
  readonly #byUser = new Map<string, T[]>();
  readonly #byRun = new Map<string, T>();

  /** Appends `entry` to its user's queue; returns its position there. */
  add(entry: T): number {
    if (this.#byRun.has(entry.runId)) throw new Error(`run ${entry.runId} is already queued`);
    let queue = this.#byUser.get(entry.userId);
    if (queue === undefined) {
      queue = [];
      this.#byUser.set(entry.userId, queue);
    }
    queue.push(entry);
    this.#byRun.set(entry.runId, entry);
    return queue.length;
  }

  get(runId: string): T | undefined {
    return this.#byRun.get(runId);
  }

  /** 1 for the next run of its user to start; `undefined` when the run is not queued. */
  position(runId: string): number | undefined {
    const entry = this.#byRun.get(runId);
    if (entry === undefined) return undefined;
    const index = this.#byUser.get(entry.userId)?.indexOf(entry) ?? -1;
    return index === -1 ? undefined : index + 1;
  }

  /** The user's next run, left in place. */
  head(userId: string): T | undefined {
    return this.#byUser.get(userId)?.[0];
  }

  /** Takes a run out wherever it is in its queue; `undefined` when it was not queued. */
  remove(runId: string): T | undefined {
    const entry = this.#byRun.get(runId);
    if (entry === undefined) return undefined;
    this.#byRun.delete(runId);
    const queue = this.#byUser.get(entry.userId);
    if (queue !== undefined) {
      const index = queue.indexOf(entry);
      if (index !== -1) queue.splice(index, 1);
      if (queue.length === 0) this.#byUser.delete(entry.userId);
    }
    return entry;
  }

  /** Runs queued for one user, or for everyone. */
  size(userId?: string): number {
    return userId === undefined ? this.#byRun.size : (this.#byUser.get(userId)?.length ?? 0);
  }

  /** Users with at least one queued run. */
  users(): string[] {
    return [...this.#byUser.keys()];
  }

  /** One user's queued runs in order, or everyone's (each user's in order). */
  entries(userId?: string): T[] {
    if (userId !== undefined) return [...(this.#byUser.get(userId) ?? [])];
    return [...this.#byUser.values()].flat();
  }
}
