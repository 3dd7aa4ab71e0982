import { useSyncExternalStore } from 'react';
import { useSession } from '../lib/session.ts';
import { useFeedState, useLiveRuns } from '../lib/useLiveRuns.ts';
import { StatusBadge } from './StatusBadge.tsx';

/** The header's connection state: the one live feed (and how many runs it carries), and the WebSocket when chosen. */
export function ConnectionIndicator() {
  const { session } = useSession();
  const runs = useLiveRuns();
  const socket = useSyncExternalStore(session.socket.subscribe, session.socket.get);
  const link = useFeedState();
  const open = runs.filter((r) => r.link !== 'ended' && r.link !== 'failed').length;
  return (
    <span className="row" data-testid="connection" data-state={link} aria-live="polite">
      <span className="muted small" title="one runs.feed stream carries every run of yours">
        feed
      </span>
      <StatusBadge status={link} label={open > 0 ? `${link} · ${open} running` : link} />
      {session.transport === 'ws' && (
        <StatusBadge
          status={socket === 'open' ? 'connected' : socket === 'closed' ? 'reconnecting' : 'connecting'}
          label={`ws ${socket}`}
        />
      )}
    </span>
  );
}
