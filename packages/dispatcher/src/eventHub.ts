import { idProblem, type Role } from './context.ts';
import type { DeliveryLedger } from './deliveryLedger.ts';
import { DispatchError } from './errors.ts';
import type { RunEvent } from './events.ts';
import type { DispatcherMetrics } from './ports.ts';

/** Who a subscription delivers to. */
export interface EventPrincipal {
  readonly userId: string;
  readonly roles: readonly Role[];
}

/**
 * A live stream of events. Each iteration yields EVERYTHING queued for the subscriber at that
 * moment as one array (at least one event), in publish order, so each run's events stay in seq order.
 * Over `maxQueuedEvents` unread events the iteration throws `SLOW_CONSUMER` so the client can resume.
 */
export interface EventSubscription extends AsyncIterable<RunEvent[]>, AsyncDisposable {
  close(): void;
}

/** Options of {@link EventHub.subscribe}. */
export interface SubscribeOptions {
  readonly principal: EventPrincipal;
  /** Only this run's events. */
  readonly runId?: string;
  /** `all` (admins only, else `ACCESS_DENIED`) receives every user's events, recorded as admin views. */
  readonly scope?: 'own' | 'all';
  /** Closes the subscription when aborted. */
  readonly signal?: AbortSignal;
}

/** Live delivery of committed events to the connections of the users who own them. */
export interface EventHub {
  /** Delivers events (typically just committed by the sink) to their owners' subscriptions. */
  publish(events: readonly RunEvent[]): void;
  subscribe(opts: SubscribeOptions): EventSubscription;
  subscriberCount(): number;
}

class Subscription implements EventSubscription, AsyncIterator<RunEvent[]> {
  readonly userId: string;
  readonly runId: string | undefined;
  readonly all: boolean;
  #queue: RunEvent[] = [];
  #state: 'open' | 'closed' | 'failed' = 'open';
  #error: DispatchError | undefined;
  #waiter: { resolve: (r: IteratorResult<RunEvent[]>) => void; reject: (e: unknown) => void } | undefined;
  readonly #max: number;
  readonly #onEnd: (sub: Subscription, overflow: boolean) => void;

  constructor(opts: SubscribeOptions, max: number, onEnd: (sub: Subscription, overflow: boolean) => void) {
    this.userId = opts.principal.userId;
    this.runId = opts.runId;
    this.all = opts.scope === 'all';
    this.#max = max;
    this.#onEnd = onEnd;
  }

  /** Queues an event; false when the subscriber has fallen too far behind and was failed. */
  enqueue(event: RunEvent): boolean {
    if (this.#state !== 'open') return false;
    this.#queue.push(event);
    if (this.#queue.length <= this.#max) return true;
    this.#fail(
      new DispatchError(
        'SLOW_CONSUMER',
        `over ${this.#max} events waited for this subscriber; resume from the last event id`,
      ),
    );
    return false;
  }

  wake(): void {
    const waiter = this.#waiter;
    if (!waiter || this.#queue.length === 0) return;
    this.#waiter = undefined;
    waiter.resolve({ value: this.#take(), done: false });
  }

  next(): Promise<IteratorResult<RunEvent[]>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#take(), done: false });
    if (this.#state === 'failed') {
      this.#state = 'closed';
      return Promise.reject(this.#error);
    }
    if (this.#state === 'closed') return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<RunEvent[]>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent[]> {
    return this;
  }

  close(): void {
    if (this.#state !== 'open') return;
    this.#state = 'closed';
    this.#queue = [];
    this.#onEnd(this, false);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #take(): RunEvent[] {
    const batch = this.#queue;
    this.#queue = [];
    return batch;
  }

  #fail(error: DispatchError): void {
    this.#state = 'failed';
    this.#error = error;
    this.#queue = [];
    this.#onEnd(this, true);
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.#state = 'closed';
      waiter.reject(error);
    }
  }
}

/**
 * Creates the hub that delivers committed events live. A subscription receives only events whose
 * `userId` is its principal's, unless it is an admin's explicit `scope: 'all'` view; every delivery
 * is recorded in the ledger as (event, recipient, admin view or not).
 *
 * @example
 * const hub = createEventHub({ ledger });
 * const sink = db.createPersistentSink({ onCommitted: (events) => hub.publish(events) });
 * for await (const events of hub.subscribe({ principal: { userId: 'alice', roles: ['user'] } })) show(events);
 */
export function createEventHub(
  opts: { ledger?: DeliveryLedger; metrics?: DispatcherMetrics; maxQueuedEvents?: number } = {},
): EventHub {
  const max = opts.maxQueuedEvents ?? 10_000;
  const byUser = new Map<string, Set<Subscription>>();
  const everyone = new Set<Subscription>();
  let count = 0;

  const remove = (sub: Subscription): void => {
    const set = sub.all ? everyone : byUser.get(sub.userId);
    if (!set?.delete(sub)) return;
    count -= 1;
    if (!sub.all && set.size === 0) byUser.delete(sub.userId);
  };
  const detach = new Map<Subscription, () => void>();
  const end = (sub: Subscription, overflow: boolean): void => {
    remove(sub);
    detach.get(sub)?.();
    detach.delete(sub);
    if (overflow) opts.metrics?.limitHit('SLOW_CONSUMER');
  };

  return {
    publish(events) {
      const touched = new Set<Subscription>();
      for (const event of events) {
        const own = byUser.get(event.userId);
        if (own) {
          for (const sub of own) {
            if (sub.runId !== undefined && sub.runId !== event.runId) continue;
            if (sub.userId !== event.userId) {
              // Unreachable by construction (subscriptions are filed by user); checked all the same.
              opts.metrics?.isolationViolation('cross_user_delivery');
              continue;
            }
            if (sub.enqueue(event)) {
              opts.ledger?.record({ event, recipientUserId: sub.userId, adminView: false });
              touched.add(sub);
            }
          }
        }
        for (const sub of everyone) {
          if (sub.runId !== undefined && sub.runId !== event.runId) continue;
          if (sub.enqueue(event)) {
            opts.ledger?.record({ event, recipientUserId: sub.userId, adminView: event.userId !== sub.userId });
            touched.add(sub);
          }
        }
      }
      for (const sub of touched) sub.wake();
    },
    subscribe(subscribeOpts) {
      const { principal } = subscribeOpts;
      const problem = idProblem(principal?.userId);
      if (problem !== undefined) throw new DispatchError('INVALID_CONTEXT', `principal.userId ${problem}`);
      if (subscribeOpts.scope === 'all' && !principal.roles.includes('admin')) {
        throw new DispatchError('ACCESS_DENIED', 'only admins may watch every user’s events');
      }
      const sub = new Subscription(subscribeOpts, max, end);
      if (sub.all) everyone.add(sub);
      else {
        let set = byUser.get(sub.userId);
        if (!set) {
          set = new Set();
          byUser.set(sub.userId, set);
        }
        set.add(sub);
      }
      count += 1;
      const signal = subscribeOpts.signal;
      if (signal) {
        if (signal.aborted) sub.close();
        else {
          const onAbort = (): void => sub.close();
          signal.addEventListener('abort', onAbort, { once: true });
          detach.set(sub, () => signal.removeEventListener('abort', onAbort));
        }
      }
      return sub;
    },
    subscriberCount: () => count,
  };
}
