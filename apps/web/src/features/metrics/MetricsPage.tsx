import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { Spinner } from '../../components/Spinner.tsx';
import { formatMs } from '../../lib/format.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { MetricsSnapshot } from '../../lib/types.ts';
import { HealthPanel } from './HealthPanel.tsx';
import { appendPoint, columns, KEY, keysWithPrefix, type MetricsPoint, toPoint } from './metricsSeries.ts';
import { UPlotChart } from './UPlotChart.tsx';

const POLL_MS = 1_000;

/**
 * Live figures from `metrics.snapshot`, polled every second: tool latency percentiles, events/s,
 * runs by status, live scopes and active runs, and calls to the legacy entry points. Rates come
 * from the difference of successive snapshots. Loaded lazily with uPlot.
 */
export function MetricsPage() {
  const trpc = useTRPC();
  const snapshot = useQuery({ ...trpc.metrics.snapshot.queryOptions(), refetchInterval: POLL_MS, staleTime: 0 });
  const [points, setPoints] = useState<MetricsPoint[]>([]);
  const prev = useRef<MetricsSnapshot | undefined>(undefined);
  const [tool, setTool] = useState('');

  useEffect(() => {
    const next = snapshot.data;
    if (next === undefined || next === prev.current || next.at === prev.current?.at) return;
    const point = toPoint(next, prev.current);
    prev.current = next;
    setPoints((p) => appendPoint(p, point));
  }, [snapshot.data]);

  const latest = snapshot.data;
  const tools = (latest?.toolLatency ?? []).map((l) => l.tool);
  const chosenTool = tools.includes(tool) ? tool : (tools[0] ?? '');
  const charts = useMemo(() => {
    const runKeys = keysWithPrefix(points, 'runs.');
    const legacyKeys = keysWithPrefix(points, 'legacy.');
    const latencyKeys = (['p50', 'p95', 'p99'] as const).map((p) => KEY.latency(chosenTool, p));
    return {
      latency: { labels: ['p50', 'p95', 'p99'], data: columns(points, latencyKeys) },
      events: {
        labels: [KEY.eventsPerSec, KEY.executionsPerSec],
        data: columns(points, [KEY.eventsPerSec, KEY.executionsPerSec]),
      },
      runs: { labels: runKeys.map((k) => k.slice('runs.'.length)), data: columns(points, runKeys) },
      scopes: { labels: [KEY.liveScopes, KEY.activeRuns], data: columns(points, [KEY.liveScopes, KEY.activeRuns]) },
      legacy: {
        labels: [KEY.legacyPerSec, ...legacyKeys.map((k) => k.slice('legacy.'.length))],
        data: columns(points, [KEY.legacyPerSec, ...legacyKeys]),
      },
    };
  }, [points, chosenTool]);

  return (
    <section className="stack" aria-labelledby="metrics-title">
      <div className="page-head">
        <h2 id="metrics-title">Metrics</h2>
        <p>Polled every second from metrics.snapshot; rates from successive snapshots.</p>
        {snapshot.isFetching && <Spinner label="refreshing" />}
      </div>
      <ErrorText error={snapshot.error} prefix="Could not load metrics" />
      <HealthPanel />
      {latest !== undefined && (
        <div className="panel figures" data-testid="metrics-figures">
          <Figure label="live scopes" value={latest.liveScopes} />
          <Figure label="peak scopes" value={latest.peakScopes} />
          <Figure label="active runs" value={latest.activeRuns} />
          <Figure label="events/s" value={fmtRate(points.at(-1)?.values[KEY.eventsPerSec])} />
          <Figure label="contract violations" value={latest.contractViolations} bad={latest.contractViolations > 0} />
          <Figure
            label="isolation violations"
            value={latest.isolationViolations}
            bad={latest.isolationViolations > 0}
          />
          <Figure label="limit hits" value={Object.values(latest.limitHits).reduce((a, b) => a + b, 0)} />
          <Figure label="legacy calls" value={Object.values(latest.legacyCalls).reduce((a, b) => a + b, 0)} />
        </div>
      )}
      <div className="charts">
        <div className="panel">
          <header className="row">
            <h3>Tool latency</h3>
            <label className="inline">
              tool
              <select value={chosenTool} onChange={(e) => setTool(e.target.value)} disabled={tools.length === 0}>
                {tools.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
          </header>
          <UPlotChart title={`${chosenTool || 'no calls yet'} (ms)`} unit="ms" {...charts.latency} />
        </div>
        <div className="panel">
          <UPlotChart title="Events and tool calls per second" unit="/s" {...charts.events} />
        </div>
        <div className="panel">
          <UPlotChart title="Runs by status (total)" {...charts.runs} />
        </div>
        <div className="panel">
          <UPlotChart title="Live scopes and active runs" {...charts.scopes} />
        </div>
        <div className="panel">
          <UPlotChart title="Legacy entry-point calls" {...charts.legacy} />
        </div>
      </div>
      {latest !== undefined && latest.toolLatency.length > 0 && (
        <div className="panel" style={{ padding: 0 }}>
          <table>
            <thead>
              <tr>
                <th>tool</th>
                <th className="num">calls</th>
                <th className="num">p50</th>
                <th className="num">p95</th>
                <th className="num">p99</th>
                <th className="num">max</th>
              </tr>
            </thead>
            <tbody>
              {latest.toolLatency.map((l) => (
                <tr key={l.tool}>
                  <td className="mono">{l.tool}</td>
                  <td className="num">{l.count}</td>
                  <td className="num">{formatMs(l.p50)}</td>
                  <td className="num">{formatMs(l.p95)}</td>
                  <td className="num">{formatMs(l.p99)}</td>
                  <td className="num">{formatMs(l.max)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function fmtRate(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : v.toFixed(1);
}

function Figure(props: { label: string; value: number | string; bad?: boolean }) {
  return (
    <div className="figure">
      <b style={props.bad === true ? { color: 'var(--err)' } : undefined}>{props.value}</b>
      <span>{props.label}</span>
    </div>
  );
}
