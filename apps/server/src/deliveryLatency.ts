import { emitTimes, type RunEvent } from '@toolrun/api';
import { Histogram, type Registry } from 'prom-client';

/** The transports whose deliveries are timed (tRPC over WebSocket, and SSE through the lean writer). */
export type DeliveryTransport = 'ws' | 'sse';

/** Seconds. Fine below 10 ms, where the delivery target lies, then coarse up to the SLOW_CONSUMER range. */
export const DELIVERY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Times each live event from its emit to the moment its message is handed to the socket. */
export interface DeliveryLatency {
  /** Observes every live event of `events` (a message's payload), handed to the socket now. */
  delivered(transport: DeliveryTransport, events: readonly unknown[]): void;
}

/**
 * Registers `toolrun_event_delivery_seconds` (label `transport`) on `registry` and starts recording
 * emit times ({@link emitTimes}). Only events that came live from a run in this process are
 * observed: history read back from the database (a replay, a resume) has no emit time here. The
 * clock is read once per message; each event is one `WeakMap` lookup and one bucket increment.
 *
 * @example
 * const latency = createDeliveryLatency(registry);
 * res.write(frame); latency.delivered('sse', events);
 */
export function createDeliveryLatency(registry: Registry): DeliveryLatency {
  emitTimes.record();
  const histogram = new Histogram({
    name: 'toolrun_event_delivery_seconds',
    help: "Time from a live event's emit to the moment its message is handed to the client's socket, by transport (ws, sse).",
    labelNames: ['transport'] as const,
    buckets: DELIVERY_BUCKETS_SECONDS,
    registers: [registry],
  });
  // Both series exist from the start, at zero; bound children: no label hashing per event.
  histogram.zero({ transport: 'ws' });
  histogram.zero({ transport: 'sse' });
  const byTransport: Record<DeliveryTransport, { observe(seconds: number): void }> = {
    ws: histogram.labels('ws'),
    sse: histogram.labels('sse'),
  };
  return {
    delivered(transport, events) {
      const series = byTransport[transport];
      let now = Number.NaN;
      for (let i = 0; i < events.length; i++) {
        const event = events[i];
        if (typeof event !== 'object' || event === null) continue;
        const emittedAt = emitTimes.of(event as RunEvent);
        if (emittedAt === undefined) continue;
        if (Number.isNaN(now)) now = performance.now();
        series.observe((now - emittedAt) / 1000);
      }
    },
  };
}
