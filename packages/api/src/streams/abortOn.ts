/** A signal aborted when any of several signals aborts. */
export interface CombinedAbort {
  readonly signal: AbortSignal;
  /** Detaches from the source signals. */
  dispose(): void;
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
    const forward = () => controller.abort(source.reason);
    source.addEventListener('abort', forward, { once: true });
    detach.push(() => source.removeEventListener('abort', forward));
  }
  return {
    signal: controller.signal,
    dispose() {
      for (const d of detach.splice(0)) d();
    },
  };
}
