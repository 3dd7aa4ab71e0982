import type { DispatcherMetrics } from '@toolrun/dispatcher';

/** A new metrics port that forwards every call to each of `ports`, in order. */
export function teeMetrics(ports: readonly DispatcherMetrics[]): DispatcherMetrics {
  return {
    toolExecuted: (tool, status, durationMs) => {
      for (const p of ports) p.toolExecuted(tool, status, durationMs);
    },
    eventEmitted: (type) => {
      for (const p of ports) p.eventEmitted(type);
    },
    runFinished: (agent, status, durationMs) => {
      for (const p of ports) p.runFinished(agent, status, durationMs);
    },
    scopeOpened: () => {
      for (const p of ports) p.scopeOpened();
    },
    scopeClosed: () => {
      for (const p of ports) p.scopeClosed();
    },
    limitHit: (code) => {
      for (const p of ports) p.limitHit(code);
    },
    contractViolation: (rule) => {
      for (const p of ports) p.contractViolation(rule);
    },
    isolationViolation: (kind) => {
      for (const p of ports) p.isolationViolation(kind);
    },
    legacyCall: (entryPoint) => {
      for (const p of ports) p.legacyCall(entryPoint);
    },
    lateResult: (result) => {
      for (const p of ports) p.lateResult?.(result);
    },
  };
}
