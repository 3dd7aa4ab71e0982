import type { ApprovalsStore, ConsoleApproval } from './approvalsStore.ts';

/** Approve / Deny for one pending approval, with this tab's decision in flight and its refusal. */
export function ApprovalButtons(props: { store: ApprovalsStore; approval: ConsoleApproval }) {
  const { store, approval } = props;
  const busy = approval.deciding !== undefined;
  return (
    <span className="row" style={{ gap: 6 }}>
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={() => void store.decide(approval.id, 'approve')}
      >
        Approve
      </button>
      <button type="button" className="danger" disabled={busy} onClick={() => void store.decide(approval.id, 'deny')}>
        Deny
      </button>
      {approval.error !== undefined && (
        <span className="small" style={{ color: 'var(--err)' }} data-testid="approval-error">
          {approval.error}
        </span>
      )}
    </span>
  );
}
