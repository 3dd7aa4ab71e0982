import { describe, expect, it } from 'vitest';
import { abortOn } from './abortOn.ts';

describe('abortOn', () => {
  it('aborts when any source aborts, with that source’s reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const combined = abortOn([a.signal, undefined, b.signal]);
    expect(combined.signal.aborted).toBe(false);
    b.abort(new Error('b stopped'));
    expect(combined.signal.aborted).toBe(true);
    expect(combined.signal.reason).toEqual(new Error('b stopped'));
  });

  it('starts aborted when a source already is', () => {
    const a = new AbortController();
    a.abort('gone');
    expect(abortOn([a.signal]).signal.reason).toBe('gone');
  });

  it('follows one shared source for thousands of combined signals, and a disposed one no longer', () => {
    // The services' shutdown signal is followed by every live subscription of the process.
    const shutdown = new AbortController();
    const combined = Array.from({ length: 5_000 }, () => abortOn([new AbortController().signal, shutdown.signal]));
    for (const c of combined.slice(0, 2_500)) c.dispose();
    shutdown.abort('shutting down');
    expect(combined.slice(0, 2_500).every((c) => !c.signal.aborted)).toBe(true);
    expect(combined.slice(2_500).every((c) => c.signal.reason === 'shutting down')).toBe(true);
  });

  it('keeps following a source after other followers of it were disposed', () => {
    const source = new AbortController();
    abortOn([source.signal]).dispose();
    const later = abortOn([source.signal]);
    source.abort('late');
    expect(later.signal.reason).toBe('late');
    // A source that aborted is followed afresh (a new combination starts aborted).
    expect(abortOn([source.signal]).signal.aborted).toBe(true);
  });
});
