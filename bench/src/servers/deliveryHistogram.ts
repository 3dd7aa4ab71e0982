/** Cumulative bucket counts of one series of `toolrun_event_delivery_seconds`, by upper bound (s). */
export interface DeliveryBuckets {
  /** Upper bounds ascending, `+Inf` last, with the cumulative count of each. */
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/**
 * Reads the server's delivery histogram for `transport` (`ws` or `sse`) from its `/metrics`: the
 * server's own share of delivery latency, from each event's emit to its message reaching the socket.
 * `null` when the server does not export it.
 */
export async function scrapeDelivery(url: string, transport: 'ws' | 'sse'): Promise<DeliveryBuckets | null> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) return null;
  const text = await res.text();
  const label = `transport="${transport}"`;
  const bounds: number[] = [];
  const counts: number[] = [];
  let sum = Number.NaN;
  let count = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith('toolrun_event_delivery_seconds') || !line.includes(label)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('toolrun_event_delivery_seconds_bucket')) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le === undefined) continue;
      bounds.push(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le));
      counts.push(value);
    } else if (line.startsWith('toolrun_event_delivery_seconds_sum')) sum = value;
    else if (line.startsWith('toolrun_event_delivery_seconds_count')) count = value;
  }
  if (bounds.length === 0 || Number.isNaN(count)) return null;
  return { bounds, counts, sum, count };
}

/** What was observed between two scrapes of the same series. */
export function deliveryBetween(before: DeliveryBuckets, after: DeliveryBuckets): DeliveryBuckets {
  return {
    bounds: after.bounds,
    counts: after.counts.map((c, i) => c - (before.counts[i] ?? 0)),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * The `q`-th quantile (0–1) in ms, interpolated linearly inside its bucket as Prometheus's
 * `histogram_quantile` does (so it is as fine as the buckets: 0.1–5 ms apart below 25 ms).
 * `null` without observations; the largest finite bound when the quantile falls in `+Inf`.
 */
export function deliveryQuantileMs(buckets: DeliveryBuckets, q: number): number | null {
  if (buckets.count <= 0) return null;
  const rank = q * buckets.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < buckets.bounds.length; i += 1) {
    const bound = buckets.bounds[i] as number;
    const cumulative = buckets.counts[i] as number;
    if (cumulative >= rank) {
      if (!Number.isFinite(bound)) return lowerBound * 1000;
      const inBucket = cumulative - lowerCount;
      const share = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket;
      return (lowerBound + (bound - lowerBound) * share) * 1000;
    }
    lowerBound = Number.isFinite(bound) ? bound : lowerBound;
    lowerCount = cumulative;
  }
  return lowerBound * 1000;
}
