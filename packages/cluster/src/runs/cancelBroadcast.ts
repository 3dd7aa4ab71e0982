import type { Redis } from 'ioredis';
import type { ClusterLogger } from '../ClusterLogger.ts';
import type { ClusterKeys } from '../redis/keys.ts';

/** A cancel as it crosses the cluster. */
export interface CancelMessage {
  readonly runId: string;
  readonly reason: string;
}

/** Sends a cancel to every process (Redis pub/sub): whichever executes the run cancels it. */
export async function broadcastCancel(redis: Redis, keys: ClusterKeys, message: CancelMessage): Promise<void> {
  await redis.publish(keys.cancels, JSON.stringify(message));
}

/**
 * Listens for cancels on a dedicated connection (a subscribed connection does nothing else) and
 * hands each to `onCancel`. Re-subscribes by itself after a reconnect (ioredis does).
 */
export async function listenForCancels(opts: {
  subscriber: Redis;
  keys: ClusterKeys;
  logger: ClusterLogger;
  onCancel(message: CancelMessage): void;
}): Promise<() => void> {
  const onMessage = (channel: string, text: string): void => {
    if (channel !== opts.keys.cancels) return;
    try {
      const parsed = JSON.parse(text) as Partial<CancelMessage>;
      if (typeof parsed.runId !== 'string' || typeof parsed.reason !== 'string') return;
      opts.onCancel({ runId: parsed.runId, reason: parsed.reason });
    } catch (error) {
      opts.logger.warn({ err: error }, 'ignored a malformed cancel message');
    }
  };
  opts.subscriber.on('message', onMessage);
  await opts.subscriber.subscribe(opts.keys.cancels);
  return () => {
    opts.subscriber.off('message', onMessage);
  };
}
