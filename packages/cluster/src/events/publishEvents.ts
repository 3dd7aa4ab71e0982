import type { RunEvent } from '@toolrun/dispatcher';
import type { Redis } from 'ioredis';
import type { ClusterLogger } from '../ClusterLogger.ts';
import type { ClusterKeys } from '../redis/keys.ts';

/** Options of {@link createEventPublisher}. */
export interface EventPublisherOptions {
  /** A connection that fails fast while Redis is down (see `connectRedis`'s `queueWhileDown: false`). */
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  readonly logger: ClusterLogger;
  /** Entries kept per stream, approximately (`XADD … MAXLEN ~`); default 10,000. */
  readonly maxLen?: number;
  /** Events kept while Redis is down, published again once it is back; default 10,000 (older ones are dropped). */
  readonly maxHeldEvents?: number;
}

/**
 * Publishes committed events to Redis Streams: one entry per user and batch on the user's stream, and
 * one per batch on the every-user stream, each stream trimmed (`MAXLEN ~`). Called after the database
 * commit, so everything a reader gets from Redis is durable; a failed publish (Redis down) is logged
 * and counted, and the batch is held (bounded) and published again once the connection is back, so
 * that readers whose own reconnect came first still get it; anything beyond the bound is read from
 * PostgreSQL when a reader resyncs.
 */
export function createEventPublisher(opts: EventPublisherOptions): {
  publish(events: readonly RunEvent[]): void;
  /** Batches Redis refused (down or failing). */
  failures(): number;
} {
  const maxLen = String(opts.maxLen ?? 10_000);
  const maxHeld = opts.maxHeldEvents ?? 10_000;
  let failures = 0;
  let held: (readonly RunEvent[])[] = [];
  let heldEvents = 0;
  const hold = (events: readonly RunEvent[]): void => {
    held.push(events);
    heldEvents += events.length;
    while (heldEvents > maxHeld && held.length > 1) heldEvents -= held.shift()?.length ?? 0;
  };
  opts.redis.on('ready', () => {
    const again = held;
    held = [];
    heldEvents = 0;
    for (const events of again) publish(events);
  });
  const publish = (events: readonly RunEvent[]): void => {
    if (events.length === 0) return;
    const byUser = new Map<string, RunEvent[]>();
    for (const event of events) {
      const list = byUser.get(event.userId);
      if (list === undefined) byUser.set(event.userId, [event]);
      else list.push(event);
    }
    const pipeline = opts.redis.pipeline();
    for (const [userId, list] of byUser) {
      pipeline.xadd(opts.keys.userEvents(userId), 'MAXLEN', '~', maxLen, '*', 'e', JSON.stringify(list));
    }
    pipeline.xadd(opts.keys.allEvents, 'MAXLEN', '~', maxLen, '*', 'e', JSON.stringify(events));
    pipeline.exec().then(
      (results) => {
        const failed = results?.find(([error]) => error !== null);
        if (failed !== undefined) {
          failures += 1;
          hold(events);
          opts.logger.warn(
            { err: failed[0] },
            'publishing events to redis failed; readers fill the gap from the database',
          );
        }
      },
      (error: unknown) => {
        failures += 1;
        hold(events);
        if (failures === 1 || failures % 1000 === 0) {
          opts.logger.warn(
            { err: error, failures },
            'publishing events to redis failed; readers fill the gap from the database',
          );
        }
      },
    );
  };
  return { publish, failures: () => failures };
}
