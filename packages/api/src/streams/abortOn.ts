/** A signal aborted when any of several signals aborts. */
export interface CombinedAbort {
  readonly signal: AbortSignal;
  /** Detaches from the source signals. */
  dispose(): void;
}

// Per source signal: the callbacks of the combined signals that follow it, behind one listener. A
// process-wide signal (the services' shutdown) is followed by every live subscription, and an
// EventTarget removes a listener by walking its list: 1,000 subscriptions ending together would walk
// it 1,000 times. A Set adds and removes in constant time.
const followers = new WeakMap<AbortSignal, Set<() => void>>();

/** The followers of `source`, behind the one listener that calls them when it aborts. */
function followersOf(source: AbortSignal): Set<() => void> {
  const known = followers.get(source);
  if (known !== undefined) return known;
  const created = new Set<() => void>();
  followers.set(source, created);
  source.addEventListener(
    'abort',
    () => {
      followers.delete(source);
      for (const callback of created) callback();
    },
    { once: true },
  );
  return created;
}

/** Combines `signals` (undefined entries are skipped) into one {@link CombinedAbort}. */
export function abortOn(signals: readonly (AbortSignal | undefined)[]): CombinedAbort {
  const controller = new AbortController();
  const detach: (() => void)[] = [];
  for (const source of signals) {
    if (source === undefined) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const set = followersOf(source);
    const forward = () => controller.abort(source.reason);
    set.add(forward);
    detach.push(() => set.delete(forward));
  }
  return {
    signal: controller.signal,
    dispose() {
      for (const d of detach.splice(0)) d();
    },
  };
}
