import type { RunEvent } from '@toolrun/dispatcher';
import type { ToolrunServices } from '../services.ts';

/** One page of a feed: a user's events, or everyone's (`userId: null`), after an event. */
export interface FeedQuery {
  readonly userId: string | null;
  readonly afterEventId?: string;
  readonly limit: number;
}

// Per services (one per process): the feed reads under way, by query.
const inFlight = new WeakMap<ToolrunServices, Map<string, Promise<RunEvent[]>>>();

/**
 * `db.feedAfter(query)`, shared with every feed of this process that asks the same page while the
 * read is under way. In cluster mode each live batch makes every feed re-read the database after its
 * position, and the feeds that are caught up (most of them, all at the same position: every admin's
 * every-user feed, say) ask the same page at the same moment: one read answers them all. A read
 * joined this way may have begun before the batch that woke the caller was committed, so the caller
 * checks that the batch was delivered and reads again on its own when not (see `streamFeed`). The
 * events are shared between the callers, read-only.
 */
export function sharedFeedAfter(services: ToolrunServices, query: FeedQuery): Promise<RunEvent[]> {
  let reads = inFlight.get(services);
  if (reads === undefined) {
    reads = new Map();
    inFlight.set(services, reads);
  }
  // Everyone's feed (null) keyed apart from any user's.
  const key = `${query.userId === null ? '\u0001' : query.userId}\u0000${query.afterEventId ?? ''}\u0000${query.limit}`;
  const joined = reads.get(key);
  if (joined !== undefined) return joined;
  const map = reads;
  const read = services.db
    .feedAfter({
      userId: query.userId,
      ...(query.afterEventId === undefined ? {} : { afterEventId: query.afterEventId }),
      limit: query.limit,
    })
    .finally(() => {
      if (map.get(key) === read) map.delete(key);
    });
  map.set(key, read);
  return read;
}
