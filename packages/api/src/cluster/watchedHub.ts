import type { EventHub, EventSubscription } from '@toolrun/dispatcher';

/**
 * The hub, telling `watch` whose subscriptions are open on this process: each `subscribe` calls
 * `watch(userId)` (null for an admin's every-user view) and the function it returns once, when that
 * subscription ends (closed, aborted, or iterated to its end or failure).
 */
export function watchedHub(hub: EventHub, watch: (userId: string | null) => () => void): EventHub {
  return {
    publish: (events) => hub.publish(events),
    subscriberCount: () => hub.subscriberCount(),
    subscribe(opts) {
      const inner = hub.subscribe(opts);
      const unwatch = once(watch(opts.scope === 'all' ? null : opts.principal.userId));
      opts.signal?.addEventListener('abort', unwatch, { once: true });
      const subscription: EventSubscription = {
        close() {
          unwatch();
          inner.close();
        },
        async [Symbol.asyncDispose]() {
          unwatch();
          await inner[Symbol.asyncDispose]();
        },
        [Symbol.asyncIterator]() {
          const iterator = inner[Symbol.asyncIterator]();
          return {
            async next() {
              try {
                const result = await iterator.next();
                if (result.done === true) unwatch();
                return result;
              } catch (error) {
                unwatch();
                throw error;
              }
            },
            async return(value?: unknown) {
              unwatch();
              return (await iterator.return?.(value)) ?? { done: true, value: undefined };
            },
          };
        },
      };
      return subscription;
    },
  };
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
