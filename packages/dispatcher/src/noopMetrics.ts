import type { DispatcherMetrics } from './ports.ts';

const noop = (): void => {};

/** Metrics that go nowhere: the factory's default when no metrics port is given. */
export const noopMetrics: DispatcherMetrics = Object.freeze({
  toolExecuted: noop,
  eventEmitted: noop,
  runFinished: noop,
  scopeOpened: noop,
  scopeClosed: noop,
  limitHit: noop,
  contractViolation: noop,
  isolationViolation: noop,
  legacyCall: noop,
});
