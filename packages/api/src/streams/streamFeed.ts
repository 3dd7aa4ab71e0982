import type { RunEvent } from '@toolrun/dispatcher';
import { isDispatchError } from '@toolrun/dispatcher';
import type { TrackedEnvelope } from '@trpc/server';
import { tracked } from '@trpc/server';
import type { Principal } from '../auth/createAuth.ts';
import type { WhenWritable } from '../context.ts';
import { isServiceIdentity } from '../serviceIdentities.ts';
import type { ToolrunServices } from '../services.ts';
import { abortOn } from './abortOn.ts';
import { sharedFeedAfter } from './sharedFeedReads.ts';

/** Options of {@link streamFeed}. */
export interface StreamFeedOptions {
  services: ToolrunServices;
  principal: Principal;
  /**
   * `'all'` (admins only, checked by the caller): every user's events, each recorded as an admin view,
   * except those of service identities (the canary's runs, see `serviceIdentities.ts`).
   */
  scope: 'own' | 'all';
  /** Resume after this event (already checked to parse); live events only when absent. */
  afterEventId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** The connection's backpressure, awaited before each message. */
  whenWritable?: WhenWritable | null | undefined;
}

/**
 * The caller's events across all their runs (or everyone's, for an admin's `'all'` view), as
 * `tracked(lastEvent.id, events)` messages. With `afterEventId`, history after that event is read from
 * the database in global commit order first; live events then follow, with every event already
 * delivered (its run's seq at or below the last one sent) dropped. Never completes on its own: when
 * the hub cuts a slow consumer off, or the services ask for a resync, it resumes from the database
 * after the last event sent, however often that happens. With `config.feedFromDatabase` (cluster
 * mode) live events only signal that there is more: it is read from the database in commit order, so
 * the tracked ids stay a valid resume point, and a feed opened without `afterEventId` starts at the
 * database's feed head as it subscribes (so a resync covers what the live path lost before its first
 * message); feeds of one process that are caught up share one read per live batch. Before each message it waits until the connection can take
 * more (`whenWritable`).
 */
export async function* streamFeed(opts: StreamFeedOptions): AsyncGenerator<TrackedEnvelope<RunEvent[]>> {
  const { services, principal, scope } = opts;
  const page = services.config.replayPageSize;
  const userId = scope === 'all' ? null : principal.userId;
  const stop = abortOn([opts.signal, services.signal]);
  // Last seq delivered per run: the duplicate filter between history and live events.
  const delivered = new Map<string, number>();
  const fresh = scope === 'all' ? freshOfUsers : freshOf;
  let cursor = opts.afterEventId;
  // Whether `cursor` is a position in the stored feed (undefined then means: before its first event).
  // A live-only feed in cluster mode takes one at subscribe time (below): events committed while
  // the live path (Redis) was lost are then read from the database on the resync, first message or not.
  let positioned = cursor !== undefined;

  /**
   * Everything stored after the cursor, in commit order, in pages; false once stopped. `shared`: the
   * pages may come from a read another feed of this process began (see `sharedFeedAfter`).
   */
  async function* backfill(
    after: string | undefined,
    shared = false,
  ): AsyncGenerator<TrackedEnvelope<RunEvent[]>, boolean> {
    let at = after;
    for (;;) {
      const query = { userId, ...(at === undefined ? {} : { afterEventId: at }), limit: page };
      const stored = await (shared ? sharedFeedAfter(services, query) : services.db.feedAfter(query));
      const end = stored.at(-1);
      if (end === undefined) return true;
      // The read is asynchronous (PostgreSQL): the stream may have been stopped meanwhile.
      if (stop.signal.aborted) return false;
      at = end.id;
      cursor = end.id;
      const events = fresh(stored, delivered);
      const last = events.at(-1);
      if (last !== undefined) {
        await opts.whenWritable?.(stop.signal);
        if (stop.signal.aborted) return false;
        record(services, principal, scope, events);
        yield tracked(last.id, events);
      }
      if (stored.length < page) return true;
    }
  }

  try {
    for (;;) {
      if (stop.signal.aborted) return;
      const round = new AbortController();
      const unlisten = services.onResync(() => round.abort());
      const signal = AbortSignal.any([stop.signal, round.signal]);
      const subscription = services.hub.subscribe({ principal, scope, signal });
      try {
        if (!positioned && services.config.feedFromDatabase) {
          // After subscribing to the hub: whatever is committed from here on is after this head.
          cursor = await services.db.feedHead(userId);
          positioned = true;
        }
        if (positioned && !(yield* backfill(cursor))) return;
        for await (const batch of subscription) {
          if (services.config.feedFromDatabase && positioned) {
            if (!(yield* backfill(cursor, true))) return;
            // A shared read that began before this batch was committed may not hold it: read again, alone.
            if (!batch.every((e) => (delivered.get(e.runId) ?? 0) >= e.seq) && !(yield* backfill(cursor))) return;
            continue;
          }
          const events = fresh(batch, delivered);
          const last = events.at(-1);
          if (last === undefined) continue;
          await opts.whenWritable?.(stop.signal);
          if (stop.signal.aborted) return;
          cursor = last.id;
          positioned = true;
          yield tracked(last.id, events);
        }
        if (round.signal.aborted && !stop.signal.aborted) continue;
        return;
      } catch (error) {
        if (!isDispatchError(error, 'SLOW_CONSUMER')) throw error;
        services.logger.warn(
          { userId: principal.userId, scope, cursor },
          'slow feed consumer: resuming from the database',
        );
        // Without a position nothing was delivered yet: the live stream simply restarts.
      } finally {
        unlisten();
        subscription.close();
      }
    }
  } finally {
    stop.dispose();
  }
}

/** The events of `events` not delivered yet, marking them delivered. */
function freshOf(events: readonly RunEvent[], delivered: Map<string, number>): RunEvent[] {
  const out: RunEvent[] = [];
  for (const event of events) {
    const last = delivered.get(event.runId) ?? 0;
    if (event.seq <= last) continue;
    delivered.set(event.runId, event.seq);
    out.push(event);
  }
  return out;
}

/** {@link freshOf} for an all-users view: service identities' events (the canary's) are left out. */
function freshOfUsers(events: readonly RunEvent[], delivered: Map<string, number>): RunEvent[] {
  const out = freshOf(events, delivered);
  return out.some((event) => isServiceIdentity(event.userId))
    ? out.filter((event) => !isServiceIdentity(event.userId))
    : out;
}

function record(services: ToolrunServices, principal: Principal, scope: 'own' | 'all', events: readonly RunEvent[]) {
  for (const event of events) {
    services.ledger.record({
      event,
      recipientUserId: principal.userId,
      adminView: scope === 'all' && event.userId !== principal.userId,
    });
  }
}
