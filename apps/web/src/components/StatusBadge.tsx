/** The colour family of a status. */
export type Tone = 'ok' | 'err' | 'warn' | 'info' | 'mute' | 'deny';

const TONES: Record<string, Tone> = {
  success: 'ok',
  completed: 'ok',
  pass: 'ok',
  ok: 'ok',
  enabled: 'ok',
  degraded: 'warn',
  failing: 'err',
  disabled: 'err',
  shutting_down: 'mute',
  connected: 'ok',
  resumed: 'ok',
  ended: 'mute',
  error: 'err',
  failed: 'err',
  fail: 'err',
  timeout: 'warn',
  interrupted: 'warn',
  reconnecting: 'warn',
  cancelled: 'mute',
  queued: 'mute',
  idle: 'mute',
  denied: 'deny',
  admin: 'deny',
  executing: 'info',
  running: 'info',
  connecting: 'info',
  user: 'mute',
};

/** The tone of a status word (unknown words are muted). */
export function toneOf(status: string): Tone {
  return TONES[status] ?? 'mute';
}

/** A small coloured pill with the status word; a spinner while something is in progress. */
export function StatusBadge(props: { status: string; label?: string; title?: string }) {
  const busy =
    props.status === 'executing' ||
    props.status === 'running' ||
    props.status === 'connecting' ||
    props.status === 'reconnecting';
  return (
    <span className={`badge tone-${toneOf(props.status)}`} title={props.title} data-status={props.status}>
      {busy && <span className="spinner" aria-hidden="true" />} {props.label ?? props.status}
    </span>
  );
}
