import { JsonPreview } from '../../components/JsonPreview.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatMs, msBetween } from '../../lib/format.ts';
import type { TimelineRow } from '../../lib/timelineReducer.ts';
import { ApprovalRowView } from '../approvals/ApprovalRowView.tsx';

function firstSeq(row: TimelineRow): number {
  return row.kind === 'tool' ? row.call.executing.seq : row.event.seq;
}

/**
 * One row of a run's timeline: seq, time since the run started, what happened. A tool call is one
 * row whose status turns from `executing` to how it ended, with duration, input and output
 * (both as the server redacted them).
 */
export function TimelineRowView(props: { row: TimelineRow; startedAt: string | undefined }) {
  const { row } = props;
  const seq = firstSeq(row);
  const at = row.kind === 'tool' ? row.call.executing.at : row.event.at;
  const offset = msBetween(props.startedAt, at);
  const seqLabel =
    row.kind === 'tool' && row.call.completed !== undefined ? `${seq}→${row.call.completed.seq}` : String(seq);
  return (
    <div
      className="tl-row"
      data-testid="tl-row"
      data-kind={row.kind}
      data-seq={seq}
      data-seqs={
        row.kind === 'tool' && row.call.completed !== undefined ? `${seq} ${row.call.completed.seq}` : String(seq)
      }
      data-status={
        row.kind === 'tool' ? row.call.status : row.kind === 'agent_completed' ? row.event.status : undefined
      }
    >
      <span className="seq" title="seq">
        {seqLabel}
      </span>
      <span className="at" title={at}>
        +{formatMs(offset ?? 0)}
      </span>
      <span className={`type-${row.kind}`}>{row.kind === 'tool' ? 'tool_call' : row.kind}</span>
      <span className="what">
        <RowContent row={row} />
      </span>
    </div>
  );
}

function RowContent(props: { row: TimelineRow }) {
  const { row } = props;
  switch (row.kind) {
    case 'agent_started':
      return (
        <>
          <b>{row.event.agent}</b> <JsonPreview value={row.event.input} label="input" />
        </>
      );
    case 'agent_thinking': {
      const { progress } = row.event;
      return (
        <span data-testid={progress === undefined ? undefined : 'tool-progress'}>
          <span className="muted">{progress === undefined ? `step ${row.event.step}` : 'progress'}</span>{' '}
          {progress?.fraction !== undefined && (
            <progress value={progress.fraction} max={1} aria-label={`${Math.round(progress.fraction * 100)}%`} />
          )}{' '}
          {row.event.text}
          {row.event.approval !== undefined && <ApprovalRowView approval={row.event.approval} />}
        </span>
      );
    }
    case 'tool': {
      const { call } = row;
      const done = call.completed;
      return (
        <div className="stack" style={{ gap: 1 }}>
          <span className="row" style={{ gap: 6 }}>
            <b>{call.tool}</b>
            <StatusBadge status={call.status} />
            {done !== undefined && <span className="muted">{formatMs(done.durationMs)}</span>}
            <span className="muted small">{call.callId}</span>
          </span>
          <JsonPreview value={call.executing.input} label="input" />
          {done?.output !== undefined && <JsonPreview value={done.output} label="output" />}
          {done?.error !== undefined && (
            <span className="json" style={{ color: 'var(--err)' }} data-testid="tool-error" data-code={done.error.code}>
              {done.error.code === 'STALLED' ? 'Stalled (no heartbeat): ' : `${done.error.code}: `}
              {done.error.message}
            </span>
          )}
        </div>
      );
    }
    case 'agent_completed':
      return (
        <div className="stack" style={{ gap: 1 }}>
          <span className="row" style={{ gap: 6 }}>
            <StatusBadge status={row.event.status} />
            <span className="muted">
              {formatMs(row.event.durationMs)} · {row.event.toolCalls} tool call{row.event.toolCalls === 1 ? '' : 's'}
            </span>
          </span>
          {row.event.result !== undefined && <JsonPreview value={row.event.result} label="result" />}
          {row.event.error !== undefined && (
            <span className="json" style={{ color: 'var(--err)' }}>
              {row.event.error.code}: {row.event.error.message}
            </span>
          )}
        </div>
      );
    default: {
      const exhaustive: never = row;
      throw new Error(`unknown row ${JSON.stringify(exhaustive)}`);
    }
  }
}
