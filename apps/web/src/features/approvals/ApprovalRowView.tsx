import { StatusBadge } from '../../components/StatusBadge.tsx';
import { ApprovalButtons } from './ApprovalButtons.tsx';
import type { ApprovalInfo } from './approvalsStore.ts';
import { useApprovalsStore, usePendingApprovals } from './useApprovals.ts';

/**
 * The approval part of an `agent_thinking` row: its state and, while the approval is still
 * pending (as the live feed knows it), Approve and Deny.
 */
export function ApprovalRowView(props: { approval: ApprovalInfo }) {
  const { approval } = props;
  const store = useApprovalsStore();
  // Re-render when any approval changes: this row's buttons go once it is decided anywhere.
  usePendingApprovals();
  const live = store?.get(approval.id);
  const pending = approval.state === 'requested' && live?.state === 'requested';
  return (
    <span className="row" style={{ gap: 6 }} data-testid="approval-row" data-approval-state={approval.state}>
      <StatusBadge status={approval.state === 'approved' ? 'success' : approval.state} />
      <span className="muted small">
        {approval.tool} · {approval.id}
        {approval.decidedBy === undefined ? '' : ` · by ${approval.decidedBy}`}
      </span>
      {pending && store !== undefined && live !== undefined && <ApprovalButtons store={store} approval={live} />}
    </span>
  );
}
