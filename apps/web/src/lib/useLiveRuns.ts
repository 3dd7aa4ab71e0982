import { useSyncExternalStore } from 'react';
import type { LinkState, LiveRun } from './liveRunsStore.ts';
import { useSession } from './session.ts';

const NONE: readonly LiveRun[] = [];
const noSubscribe = () => () => undefined;
const noSnapshot = () => NONE;

/** The runs this tab follows live (newest first); re-renders on every event. */
export function useLiveRuns(): readonly LiveRun[] {
  const store = useSession().session.liveRuns;
  return useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? noSnapshot);
}

/**
 * One word for all open streams: `reconnecting` if any is, else `resumed` if any came back after
 * a drop, else `connecting`, `queued`, `connected`, or `idle` when nothing is streaming.
 */
export function overallLink(runs: readonly LiveRun[]): LinkState | 'idle' {
  const open = runs.filter((r) => r.link !== 'ended' && r.link !== 'failed');
  for (const state of ['reconnecting', 'resumed', 'connecting', 'queued'] as const) {
    if (open.some((r) => r.link === state)) return state;
  }
  return open.length > 0 ? 'connected' : 'idle';
}
