import { useSyncExternalStore } from 'react';
import { type Session, useSession } from '../../lib/session.ts';
import { ApprovalsStore, type ConsoleApproval } from './approvalsStore.ts';

// The store of the current session, on the session's one `runs.feed`: the header badge and the timelines.
let current: { session: Session; store: ApprovalsStore | undefined } | undefined;

/**
 * The approvals store of `session`: the same object while the session lasts, a new one (the
 * previous one disposed) when the identity or transport changes. Idempotent, so it can be called
 * during render, as `sessionFor` is.
 */
function storeFor(session: Session): ApprovalsStore | undefined {
  if (current?.session === session) return current.store;
  current?.store?.dispose();
  const { client, feed } = session;
  const store =
    feed === undefined
      ? undefined
      : new ApprovalsStore({
          listPending: async () => (await client.approvals.list.query({ status: 'pending', limit: 100 })).items,
          // The session's one feed, shared with the live runs.
          subscribeFeed: (observer) => ({
            unsubscribe: feed.listen({ onEvents: (data) => observer.onData({ data }) }),
          }),
          decide: (input) => client.approvals.decide.mutate(input),
        });
  store?.start();
  current = { session, store };
  return store;
}

const NONE: readonly ConsoleApproval[] = [];
const noSubscribe = () => () => undefined;
const noSnapshot = () => NONE;

/** The live approvals store of this tab (`undefined` while signed out). */
export function useApprovalsStore(): ApprovalsStore | undefined {
  return storeFor(useSession().session);
}

/** The user's pending approvals, live; re-renders when one arrives or is decided anywhere. */
export function usePendingApprovals(): readonly ConsoleApproval[] {
  const store = useApprovalsStore();
  return useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? noSnapshot);
}
