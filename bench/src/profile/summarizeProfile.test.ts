import { describe, expect, it } from 'vitest';
import { type CpuProfile, formatSummary, originOf, summarizeProfile } from './summarizeProfile.ts';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

// root → handler (server) → write (node) ; root → (idle)
const profile: CpuProfile = {
  startTime: 0,
  endTime: 8_000,
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
    { id: 2, callFrame: frame('handler', 'file:///repo/apps/server/src/http.ts', 9), children: [3] },
    { id: 3, callFrame: frame('write', 'node:internal/streams/writable', 4) },
    { id: 4, callFrame: frame('(idle)', '') },
  ],
  // A sample lasts until the next one, the last until endTime: handler 1 ms, write 3 ms, idle 4 ms.
  samples: [2, 3, 3, 3, 4, 4, 4, 4],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('summarizeProfile', () => {
  it('attributes self time to the function on top of the stack and total time to every caller', () => {
    const s = summarizeProfile(profile);
    const write = s.top.find((f) => f.name.startsWith('write'));
    const handler = s.top.find((f) => f.name.startsWith('handler'));
    expect(write).toMatchObject({ origin: 'node', selfMs: 3, totalMs: 3 });
    expect(handler).toMatchObject({ origin: '@toolrun/server', selfMs: 1, totalMs: 4 });
    expect(handler?.name).toBe('handler (apps/server/src/http.ts:10)');
  });

  it('leaves idle time out of the shares, so that they say where the busy time went', () => {
    const s = summarizeProfile(profile);
    expect(s.idlePercent).toBe(50);
    expect(s.top.map((f) => f.name.split(' ')[0])).toEqual(['write', 'handler']);
    expect(s.top[0]?.selfPercent).toBe(75);
    expect(s.byOrigin).toEqual([
      { origin: 'node', percent: 75 },
      { origin: '@toolrun/server', percent: 25 },
    ]);
    expect(formatSummary(s)).toContain(' 75.0   75.0  write (node:internal/streams/writable:5)  [node]');
  });
});

describe('originOf', () => {
  it('names npm packages (pnpm layout included), workspaces and Node internals', () => {
    expect(originOf('file:///r/node_modules/.pnpm/@trpc+server@11.22.1/node_modules/@trpc/server/dist/x.mjs')).toBe(
      '@trpc/server',
    );
    expect(originOf('file:///r/node_modules/ws/lib/sender.js')).toBe('ws');
    expect(originOf('file:///r/packages/dispatcher/src/RunChannel.ts')).toBe('@toolrun/dispatcher');
    expect(originOf('node:internal/webstreams/readablestream')).toBe('node');
    expect(originOf('')).toBe('(vm)');
  });
});
