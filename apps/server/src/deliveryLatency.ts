import { emitTimes, type RunEvent } from '@toolrun/api';
import type { Metric, Registry } from 'prom-client';

/** The transports whose deliveries are timed (tRPC over WebSocket, and SSE through the lean writer). */
export type DeliveryTransport = 'ws' | 'sse';

const TRANSPORTS: readonly DeliveryTransport[] = ['ws', 'sse'];

/**
 * Seconds. Fine below 10 ms, where the delivery target lies, and about 1.5× apart above, so that a
 * quantile interpolated within a bucket stays within a third of the truth up to 10 s.
 */
export const DELIVERY_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2,
  0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10,
];

/** The metric's name in `/metrics`. */
export const DELIVERY_METRIC = 'toolrun_event_delivery_seconds';

/** Times each live event from its emit to the moment its message is handed to the socket. */
export interface DeliveryLatency {
  /** Observes every live event of `events` (a message's payload), handed to the socket now. */
  delivered(transport: DeliveryTransport, events: readonly unknown[]): void;
}

/** One series: observations per bucket (not cumulative; the last slot is above the largest bound). */
interface Series {
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * Registers `toolrun_event_delivery_seconds` (a histogram, label `transport`) on `registry` and starts
 * recording emit times ({@link emitTimes}). Only events that came live from a run in this process
 * are observed: history read back from the database (a replay, a resume) has no emit time here.
 * Per message the clock is read once; per event it is one property read and one bucket increment.
 * The counts live in typed arrays and become Prometheus samples when scraped: prom-client's own
 * `observe` validates and hashes the labels on every call, which at tens of thousands of events a
 * second was a few percent of the server's CPU.
 *
 * @example
 * const latency = createDeliveryLatency(registry);
 * res.write(frame); latency.delivered('sse', events);
 */
export function createDeliveryLatency(registry: Registry): DeliveryLatency {
  emitTimes.record();
  const bounds = DELIVERY_BUCKETS_SECONDS;
  const fresh = (): Series => ({ buckets: new Float64Array(bounds.length + 1), sum: 0, count: 0 });
  const series: Record<DeliveryTransport, Series> = { ws: fresh(), sse: fresh() };
  const help =
    "Time from a live event's emit to the moment its message is handed to the client's socket, by transport (ws, sse).";
  const samples = () => {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const transport of TRANSPORTS) {
      const s = series[transport];
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += s.buckets[i] ?? 0;
        const le = i < bounds.length ? (bounds[i] ?? 0) : '+Inf';
        values.push({ metricName: `${DELIVERY_METRIC}_bucket`, labels: { le, transport }, value: cumulative });
      }
      values.push({ metricName: `${DELIVERY_METRIC}_sum`, labels: { transport }, value: s.sum });
      values.push({ metricName: `${DELIVERY_METRIC}_count`, labels: { transport }, value: s.count });
    }
    return { name: DELIVERY_METRIC, help, type: 'histogram', aggregator: 'sum', values };
  };
  // What a Registry reads of a metric: its name, `get()` (and `getForPromString()` when present, for
  // the text format) and `reset()`. prom-client types metrics as its own four classes only.
  const metric = {
    name: DELIVERY_METRIC,
    help,
    get: async () => samples(),
    getForPromString: async () => samples(),
    reset() {
      series.ws = fresh();
      series.sse = fresh();
    },
  };
  registry.registerMetric(metric as unknown as Metric);
  return {
    delivered(transport, events) {
      const s = series[transport];
      let now = Number.NaN;
      for (let i = 0; i < events.length; i++) {
        const event = events[i];
        if (typeof event !== 'object' || event === null) continue;
        const emittedAt = emitTimes.of(event as RunEvent);
        if (emittedAt === undefined) continue;
        if (Number.isNaN(now)) now = performance.now();
        const seconds = (now - emittedAt) / 1000;
        let b = 0;
        while (b < bounds.length && seconds > (bounds[b] ?? 0)) b++;
        s.buckets[b] = (s.buckets[b] ?? 0) + 1;
        s.sum += seconds;
        s.count += 1;
      }
    },
  };
}
