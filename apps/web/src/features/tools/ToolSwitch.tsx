import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { useTRPC } from '../../lib/trpc.ts';

/** A tool's kill-switch state as `tools.list` reports it. */
export interface ToolSwitchState {
  name: string;
  enabled: boolean;
  lastChange?: { enabled: boolean; reason: string; changedBy: string; changedAt: string };
}

/**
 * A tool's kill switch: its state with the last change (who, when, why), and for admins a form that
 * switches it off or on again with a reason (`tools.setEnabled`, durable and audited).
 */
export function ToolSwitch({ tool, admin }: { tool: ToolSwitchState; admin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const change = useMutation(
    trpc.tools.setEnabled.mutationOptions({
      onSuccess: () => setReason(''),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.tools.list.queryKey() }),
    }),
  );
  const last = tool.lastChange;
  return (
    <div className="stack" data-testid="tool-switch" data-enabled={tool.enabled}>
      <StatusBadge status={tool.enabled ? 'enabled' : 'disabled'} />
      {last !== undefined && (
        <small title={last.changedAt}>
          {last.enabled ? 'enabled' : 'disabled'} by {last.changedBy}: {last.reason}
        </small>
      )}
      {admin && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            change.mutate({ tool: tool.name, enabled: !tool.enabled, reason });
          }}
        >
          <input
            aria-label={`reason to ${tool.enabled ? 'disable' : 'enable'} ${tool.name}`}
            placeholder="reason"
            value={reason}
            maxLength={500}
            onChange={(e) => setReason(e.target.value)}
          />
          <button type="submit" disabled={reason.trim() === '' || change.isPending}>
            {tool.enabled ? 'Disable' : 'Enable'}
          </button>
        </form>
      )}
      <ErrorText error={change.error} prefix="Could not switch the tool" />
    </div>
  );
}
