import { useState } from 'react';
import { JsonPreview } from '../../components/JsonPreview.tsx';
import { ApprovalButtons } from './ApprovalButtons.tsx';
import { useApprovalsStore, usePendingApprovals } from './useApprovals.ts';

/**
 * The header badge: how many tool calls wait for this user's approval, live from the feed; it
 * opens a list of them, each with Approve and Deny.
 */
export function ApprovalsBadge() {
  const store = useApprovalsStore();
  const pending = usePendingApprovals();
  const [open, setOpen] = useState(false);
  if (store === undefined) return null;
  return (
    <span className="approvals" style={{ position: 'relative' }}>
      <button
        type="button"
        data-testid="approvals-badge"
        data-count={pending.length}
        className={pending.length > 0 ? 'primary' : undefined}
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        Approvals {pending.length}
      </button>
      {open && (
        <div
          className="approvals-panel stack"
          data-testid="approvals-panel"
          style={{
            position: 'absolute',
            right: 0,
            top: '110%',
            zIndex: 10,
            minWidth: 360,
            padding: 8,
            background: 'var(--bg, #fff)',
            border: '1px solid var(--line, #ccc)',
            borderRadius: 6,
          }}
        >
          {pending.length === 0 && <span className="muted">Nothing waits for your approval.</span>}
          {pending.map((approval) => (
            <div key={approval.id} className="stack" data-testid="approval-item" data-approval-id={approval.id}>
              <span className="row" style={{ gap: 6 }}>
                <b>{approval.tool}</b>
                <a className="small" href={`#/runs/${encodeURIComponent(approval.runId)}`}>
                  {approval.runId}
                </a>
              </span>
              <JsonPreview value={approval.input} label="input" />
              <span className="muted small">expires {new Date(approval.expiresAt).toLocaleString()}</span>
              <ApprovalButtons store={store} approval={approval} />
            </div>
          ))}
        </div>
      )}
    </span>
  );
}
