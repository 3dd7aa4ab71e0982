import { useSyncExternalStore } from 'react';
import { useSession } from '../lib/session.ts';
import { overallLink, useLiveRuns } from '../lib/useLiveRuns.ts';
import { StatusBadge } from './StatusBadge.tsx';

/** The header's connection state: the live streams as one word, and the WebSocket when chosen. */
export function ConnectionIndicator() {
  const { session } = useSession();
  const runs = useLiveRuns();
  const socket = useSyncExternalStore(session.socket.subscribe, session.socket.get);
  const link = overallLink(runs);
  const streaming = runs.filter((r) => r.link !== 'ended' && r.link !== 'failed').length;
  return (
    <span className="row" data-testid="connection" data-state={link} aria-live="polite">
      <span className="muted small">streams</span>
      <StatusBadge status={link} label={link === 'idle' ? 'idle' : `${link}${streaming > 1 ? ` ×${streaming}` : ''}`} />
      {session.transport === 'ws' && (
        <StatusBadge
          status={socket === 'open' ? 'connected' : socket === 'closed' ? 'reconnecting' : 'connecting'}
          label={`ws ${socket}`}
        />
      )}
    </span>
  );
}
