import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

/** Props of {@link UPlotChart}. */
export interface UPlotChartProps {
  title: string;
  /** Label of each y series, in the order of `data[1…]`. */
  labels: readonly string[];
  /** uPlot's aligned data: x (unix seconds) first, then one column per label. */
  data: [number[], ...(number | null)[][]];
  /** Unit shown on the y axis values (`ms`, `/s`). */
  unit?: string;
  height?: number;
}

/**
 * A small time-series line chart (uPlot, canvas). The chart is rebuilt when the set of series
 * changes and only fed new data otherwise; it follows its container's width.
 */
export function UPlotChart(props: UPlotChartProps) {
  const container = useRef<HTMLDivElement | null>(null);
  const chart = useRef<uPlot | null>(null);
  const labelsKey = props.labels.join('\u0000');
  const { title, unit, height = 180 } = props;
  const dataRef = useRef(props.data);
  dataRef.current = props.data;

  // Rebuilt only when the set of series changes (labelsKey); new data goes through setData below.
  useEffect(() => {
    const el = container.current;
    if (el === null) return;
    const axis = cssVar('--muted', '#666');
    const grid = cssVar('--line', '#ddd');
    const opts: uPlot.Options = {
      title,
      width: Math.max(200, el.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        // Counts and rates start at zero; an all-zero series still gets a readable axis.
        y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 0) * 1.1)] },
      },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 56,
          values: (_u, ticks) => ticks.map((v) => `${Number(v.toPrecision(3))}${unit ?? ''}`),
        },
      ],
      series: [
        {},
        ...props.labels.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length] ?? '#888',
          width: 1.5,
          spanGaps: false,
          points: { show: false },
        })),
      ],
    };
    const plot = new uPlot(opts, dataRef.current, el);
    chart.current = plot;
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, [labelsKey, title, unit, height]);

  useEffect(() => {
    chart.current?.setData(props.data);
  }, [props.data]);

  return <div ref={container} className="chart" role="img" aria-label={`${title} chart`} />;
}
