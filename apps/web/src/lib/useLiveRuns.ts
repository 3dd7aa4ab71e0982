import { useCallback, useSyncExternalStore } from 'react';
import type { LiveRun } from './liveRunsStore.ts';
import type { FeedState } from './runsFeed.ts';
import { useSession } from './session.ts';

const NONE: readonly LiveRun[] = [];
const noSubscribe = () => () => undefined;
const noSnapshot = () => NONE;

/** The user's runs followed live (newest first); re-renders on every event. */
export function useLiveRuns(): readonly LiveRun[] {
  const store = useSession().session.liveRuns;
  return useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? noSnapshot);
}

/** The state of the session's one `runs.feed` stream, or `idle` while signed out. */
export function useFeedState(): FeedState | 'idle' {
  const feed = useSession().session.feed;
  const subscribe = useCallback(
    (listener: () => void) => (feed === undefined ? () => undefined : feed.listen({ onState: listener })),
    [feed],
  );
  return useSyncExternalStore(subscribe, () => feed?.state() ?? 'idle');
}
