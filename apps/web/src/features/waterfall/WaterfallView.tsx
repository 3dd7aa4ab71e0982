import { useMemo, useState } from 'react';
import { toneOf } from '../../components/StatusBadge.tsx';
import { formatMs, jsonPretty } from '../../lib/format.ts';
import type { RunEvent } from '../../lib/types.ts';
import { layoutWaterfall, type WaterfallBar } from './layoutWaterfall.ts';

/** Bars drawn at most: a run of thousands of calls is read in the event table, not as a picture. */
export const MAX_WATERFALL_BARS = 300;

/**
 * A run's tool calls as a waterfall: one bar per call on the run's time axis, parallel calls side by
 * side, a sub-agent's calls indented under its `agent:` call, coloured by status. Clicking a bar shows
 * the call's (redacted) input and its output or error.
 */
export function WaterfallView({ events }: { events: readonly RunEvent[] }) {
  const { bars: all, totalMs } = useMemo(() => layoutWaterfall(events), [events]);
  const bars = all.length > MAX_WATERFALL_BARS ? all.slice(0, MAX_WATERFALL_BARS) : all;
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const selected = bars.find((b) => b.callId === chosen);
  if (bars.length === 0) return <p className="muted">No tool calls.</p>;
  const axis = Math.max(totalMs, 1);
  return (
    <div className="waterfall" data-testid="waterfall">
      {bars.map((bar) => (
        <button
          key={bar.callId}
          type="button"
          className={`waterfall-row${bar.callId === chosen ? ' chosen' : ''}`}
          data-testid="waterfall-bar"
          data-call-id={bar.callId}
          data-depth={bar.depth}
          data-parent-call-id={bar.parentCallId ?? ''}
          data-start-ms={bar.startMs}
          data-end-ms={bar.endMs ?? ''}
          data-status={bar.status}
          onClick={() => setChosen(bar.callId === chosen ? undefined : bar.callId)}
        >
          <span className="waterfall-label mono" style={{ paddingLeft: `${bar.depth * 1.25}rem` }}>
            {bar.tool}
          </span>
          <span className="waterfall-track">
            <span
              className={`waterfall-bar tone-${toneOf(bar.status)}`}
              style={{
                left: `${(bar.startMs / axis) * 100}%`,
                width: `${Math.max(((bar.endMs ?? totalMs) - bar.startMs) / axis, 0.004) * 100}%`,
              }}
              title={`${bar.status}, ${formatMs((bar.endMs ?? totalMs) - bar.startMs)}`}
            />
          </span>
          <span className="waterfall-duration num">
            {bar.endMs === undefined ? '…' : formatMs(bar.endMs - bar.startMs)}
          </span>
        </button>
      ))}
      {all.length > bars.length && (
        <p className="muted" data-testid="waterfall-truncated">
          The first {bars.length} of {all.length} calls; the event table below has every one.
        </p>
      )}
      {selected !== undefined && <CallDetail bar={selected} />}
    </div>
  );
}

function CallDetail({ bar }: { bar: WaterfallBar }) {
  return (
    <div className="panel" data-testid="waterfall-detail">
      <h4 className="mono">
        {bar.tool} · {bar.callId}
      </h4>
      <h5>input</h5>
      <pre>{jsonPretty(bar.input)}</pre>
      {bar.error !== undefined ? (
        <>
          <h5>error</h5>
          <pre>{`${bar.error.code}: ${bar.error.message}`}</pre>
        </>
      ) : (
        bar.output !== undefined && (
          <>
            <h5>output</h5>
            <pre>{jsonPretty(bar.output)}</pre>
          </>
        )
      )}
    </div>
  );
}
