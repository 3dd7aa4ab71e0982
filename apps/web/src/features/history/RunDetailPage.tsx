import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { VirtualRows } from '../../components/VirtualRows.tsx';
import { formatDateTime, formatMs, jsonPretty, jsonPreview, msBetween } from '../../lib/format.ts';
import { useSession } from '../../lib/session.ts';
import { emptyTimeline, timelineReducer } from '../../lib/timelineReducer.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { RunEvent } from '../../lib/types.ts';
import { WaterfallView } from '../waterfall/WaterfallView.tsx';
import { eventSummary } from './eventSummary.ts';

const SPEEDS = [1, 10, 100] as const;

/**
 * A stored run (`runs.get`): its record, and a replay of its events that steps with
 * Prev/Next, ↑/↓ or j/k, Home/End, and plays at 1, 10 or 100 events per tick. The list is
 * virtualized, so 10,000 events stay smooth.
 */
export function RunDetailPage(props: { runId: string }) {
  const trpc = useTRPC();
  const { session } = useSession();
  const detail = useQuery({
    ...trpc.runs.get.queryOptions({ runId: props.runId }),
    refetchInterval: (q) => (q.state.data?.run.status === 'running' ? 2_000 : false),
  });
  const events: readonly RunEvent[] = detail.data?.events ?? [];
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<(typeof SPEEDS)[number]>(1);
  const listRef = useRef<HTMLDivElement | null>(null);
  const at = Math.min(cursor ?? events.length - 1, events.length - 1);
  const last = events.length - 1;

  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      setCursor((c) => {
        const next = Math.min((c ?? -1) + speed, last);
        if (next >= last) setPlaying(false);
        return next;
      });
    }, 120);
    return () => clearInterval(timer);
  }, [playing, speed, last]);

  const state = useMemo(
    () => timelineReducer(emptyTimeline(props.runId), { type: 'events', events: events.slice(0, at + 1) }),
    [events, at, props.runId],
  );
  const selected = events[at];
  // The waterfall follows the replay: the calls as they stood at the selected event.
  const waterfallEvents = useMemo(() => events.slice(0, at + 1), [events, at]);
  const startedAt = events[0]?.at;

  const step = (delta: number) => {
    setPlaying(false);
    setCursor(Math.max(0, Math.min(last, at + delta)));
  };
  const onKeyDown = (e: globalThis.KeyboardEvent) => {
    const target = e.target;
    // Keys typed into a form field belong to it.
    if (
      target instanceof HTMLInputElement ||
      target instanceof HTMLSelectElement ||
      target instanceof HTMLTextAreaElement
    )
      return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const keys: Record<string, () => void> = {
      ArrowDown: () => step(1),
      j: () => step(1),
      ArrowUp: () => step(-1),
      k: () => step(-1),
      PageDown: () => step(20),
      PageUp: () => step(-20),
      Home: () => step(-last),
      End: () => step(last),
      ' ': () => setPlaying((p) => !p),
    };
    const action = keys[e.key];
    if (action !== undefined && !(target instanceof HTMLButtonElement && e.key === ' ')) {
      e.preventDefault();
      action();
    }
  };
  const keyHandler = useRef(onKeyDown);
  keyHandler.current = onKeyDown;
  // The replay keys work anywhere on the page (not only when the list has focus).
  useEffect(() => {
    const listener = (e: globalThis.KeyboardEvent) => keyHandler.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  if (detail.error !== null) {
    return (
      <section className="stack">
        <h2>Run {props.runId}</h2>
        <ErrorText error={detail.error} prefix="Could not load the run" />
        <a href="#/history">← History</a>
      </section>
    );
  }
  const run = detail.data?.run;
  const openCalls = state.rows.filter((r) => r.kind === 'tool' && r.call.status === 'executing');

  return (
    <section className="stack" aria-labelledby="run-title" data-testid="run-detail">
      <div className="page-head">
        <a href="#/history">← History</a>
        <h2 id="run-title" className="mono">
          {props.runId}
        </h2>
        {run !== undefined && <StatusBadge status={run.status} />}
        {run?.status === 'running' && (
          <button
            type="button"
            onClick={() => {
              session.liveRuns?.follow({ runId: run.id, agent: run.agent, threadId: run.threadId });
              window.location.hash = '#/live';
            }}
          >
            Follow live
          </button>
        )}
      </div>
      {run === undefined ? (
        <p className="muted">Loading…</p>
      ) : (
        <div className="panel">
          <dl className="kv">
            <dt>agent</dt>
            <dd>{run.agent}</dd>
            <dt>user</dt>
            <dd>{run.userId}</dd>
            <dt>thread</dt>
            <dd>{run.threadId}</dd>
            <dt>started</dt>
            <dd>{formatDateTime(run.startedAt)}</dd>
            <dt>duration</dt>
            <dd>{formatMs(run.durationMs)}</dd>
            <dt>tool calls</dt>
            <dd>{run.toolCalls}</dd>
            <dt>input</dt>
            <dd>{jsonPreview(run.input, 200)}</dd>
            {run.result !== null && (
              <>
                <dt>result</dt>
                <dd>{jsonPreview(run.result, 200)}</dd>
              </>
            )}
            {run.error !== null && (
              <>
                <dt>error</dt>
                <dd style={{ color: 'var(--err)' }}>
                  {run.error.code}: {run.error.message}
                </dd>
              </>
            )}
          </dl>
        </div>
      )}
      <div className="panel stack">
        <h3>Waterfall</h3>
        <WaterfallView events={waterfallEvents} />
      </div>
      <div className="panel stack">
        <header className="row">
          <h3>Replay</h3>
          <span className="muted small" data-testid="replay-position">
            event {events.length === 0 ? 0 : at + 1} of {events.length}
          </span>
          <button type="button" onClick={() => step(-last)} disabled={at <= 0} aria-keyshortcuts="Home">
            |◀ First
          </button>
          <button type="button" onClick={() => step(-1)} disabled={at <= 0} aria-keyshortcuts="ArrowUp k">
            ◀ Prev
          </button>
          <button type="button" onClick={() => step(1)} disabled={at >= last} aria-keyshortcuts="ArrowDown j">
            Next ▶
          </button>
          <button type="button" onClick={() => step(last)} disabled={at >= last} aria-keyshortcuts="End">
            Last ▶|
          </button>
          <button
            type="button"
            onClick={() => {
              if (!playing && at >= last) setCursor(0);
              setPlaying(!playing);
            }}
            disabled={events.length === 0}
            aria-keyshortcuts="Space"
          >
            {playing ? '⏸ Pause' : '▶ Play'}
          </button>
          <label className="inline">
            speed
            <select value={speed} onChange={(e) => setSpeed(SPEEDS.find((s) => String(s) === e.target.value) ?? 1)}>
              {SPEEDS.map((s) => (
                <option key={s} value={s}>
                  {s}/tick
                </option>
              ))}
            </select>
          </label>
          <span className="muted small">keys: ↑↓ j k, PgUp PgDn, Home End, Space</span>
        </header>
        <div className="grid2" style={{ gridTemplateColumns: 'minmax(0, 3fr) minmax(260px, 2fr)' }}>
          <div className="timeline panel" style={{ padding: 0 }} data-testid="replay-list">
            <VirtualRows
              count={events.length}
              rowKey={(i) => events[i]?.id ?? String(i)}
              scrollRef={listRef}
              scrollToIndex={at}
              height="60vh"
              label="events"
              renderRow={(i) => {
                const e = events[i];
                if (e === undefined) return null;
                return (
                  <button
                    type="button"
                    className={`tl-row row-button${i === at ? ' selected' : ''}`}
                    style={{ opacity: i > at ? 0.45 : 1, cursor: 'pointer' }}
                    onClick={() => {
                      setPlaying(false);
                      setCursor(i);
                    }}
                    data-testid="replay-row"
                    data-seq={e.seq}
                    data-type={e.type}
                    aria-current={i === at ? 'step' : undefined}
                  >
                    <span className="seq">{e.seq}</span>
                    <span className="at">+{formatMs(msBetween(startedAt, e.at) ?? 0)}</span>
                    <span className={`type-${e.type.startsWith('tool') ? 'tool' : e.type}`}>{e.type}</span>
                    <span className="what" style={{ whiteSpace: 'nowrap', textOverflow: 'ellipsis' }}>
                      {eventSummary(e)}
                    </span>
                  </button>
                );
              }}
            />
          </div>
          <div className="stack">
            <div className="panel">
              <h3>At this step</h3>
              <dl className="kv">
                <dt>events</dt>
                <dd>{state.lastSeq}</dd>
                <dt>thinking steps</dt>
                <dd>{state.rows.filter((r) => r.kind === 'agent_thinking').length}</dd>
                <dt>tool calls</dt>
                <dd>
                  {state.rows.filter((r) => r.kind === 'tool').length} ({openCalls.length} executing)
                </dd>
                <dt>open calls</dt>
                <dd>
                  {openCalls.map((r) => (r.kind === 'tool' ? `${r.call.tool}[${r.call.callId}]` : '')).join(', ') ||
                    '–'}
                </dd>
                <dt>outcome</dt>
                <dd>{state.completed === undefined ? 'running' : state.completed.status}</dd>
              </dl>
            </div>
            <div className="panel">
              <h3>Event {selected?.seq ?? ''}</h3>
              <pre data-testid="replay-selected">{selected === undefined ? 'No events.' : jsonPretty(selected)}</pre>
            </div>
          </div>
        </div>
      </div>
    </section>
  );
}
