import type { RunEvent } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { silentLogger as logger, useTestRedis } from '../../test/support/useTestRedis.ts';
import { connectRedis } from '../redis/connectRedis.ts';
import { clusterKeys } from '../redis/keys.ts';
import { createStreamTailer } from './createStreamTailer.ts';
import { createEventPublisher } from './publishEvents.ts';

const testRedis = useTestRedis();

function thinking(userId: string, runId: string, seq: number): RunEvent {
  return {
    id: `${runId}:${seq}`,
    seq,
    runId,
    userId,
    threadId: 'thread-1',
    at: new Date().toISOString(),
    type: 'agent_thinking',
    text: `step ${seq}`,
    step: seq,
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`hang guard: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('createStreamTailer', () => {
  it('reads the streams of watched users only, picks up a newly watched user at once, and reports a Redis restart as a gap', async () => {
    const keys = clusterKeys('tail');
    const redis = testRedis.server();
    const publishing = connectRedis({ url: redis.url, name: 'pub', logger, queueWhileDown: false });
    const control = connectRedis({ url: redis.url, name: 'control', logger });
    const reader = connectRedis({ url: redis.url, name: 'reader', logger });
    const received: RunEvent[] = [];
    let gaps = 0;
    // A long block: a newly watched user must not wait for it to time out.
    const tailer = createStreamTailer({
      reader,
      control,
      keys,
      logger,
      blockMs: 60_000,
      onEvents: (events) => received.push(...events),
      onGap: () => {
        gaps += 1;
      },
    });
    const publisher = createEventPublisher({ redis: publishing, keys, logger });
    try {
      const stopAnn = tailer.watch('ann');
      await new Promise((r) => setTimeout(r, 100));
      publisher.publish([thinking('ann', 'ra', 1), thinking('bob', 'rb', 1)]);
      await until(() => received.length >= 1, 'ann’s event');
      tailer.watch('bob');
      publisher.publish([thinking('bob', 'rb', 2)]);
      // bob's earlier event too: a new stream is read from a little before now.
      await until(() => received.filter((e) => e.userId === 'bob').length >= 2, 'bob’s events');
      expect(received.filter((e) => e.userId === 'ann').map((e) => e.id)).toEqual(['ra:1']);
      stopAnn();
      expect(tailer.watched()).toEqual([keys.userEvents('bob')]);
      const before = gaps;
      await redis.kill();
      await until(() => gaps > before, 'a gap when Redis went away');
      const during = gaps;
      await redis.restart();
      await until(() => gaps > during, 'a gap when Redis came back');
      await until(() => publishing.status === 'ready', 'the publisher to reconnect');
      publisher.publish([thinking('bob', 'rb', 3)]);
      await until(() => received.some((e) => e.id === 'rb:3'), 'an event after the restart');
    } finally {
      await tailer.close();
      control.disconnect();
      publishing.disconnect();
    }
  });
});
