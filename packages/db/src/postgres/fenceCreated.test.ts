import { describe, expect, it } from 'vitest';
import { RunBuilder } from '../../test/fixtures.ts';
import { useTestPostgres } from '../../test/support/useTestPostgres.ts';
import { type OpenPostgresOptions, openPostgresDatabase, type PostgresDatabase } from './openPostgres.ts';

const postgres = useTestPostgres();

async function open(url: string, opts: Omit<OpenPostgresOptions, 'url'>): Promise<PostgresDatabase> {
  return postgres.track(await openPostgresDatabase({ url, ...opts }));
}

function run(runId: string): RunBuilder {
  return new RunBuilder({ runId, userId: 'user-1', startMs: Date.now() });
}

describe('PostgreSQL fencing of runs created twice', () => {
  // A cluster closes a run whose worker took it and stalled before its first commit; should that
  // worker's first commit come after all, the two processes create one run: the later is refused.
  it('refuses a run another process created first, however close the two creations (fenced if they overlap, refused as out of order after), while the rest of the batch commits', async () => {
    const url = await postgres.server.createDatabase();
    const [a, b] = [await open(url, { runLeaseMs: 60_000 }), await open(url, { runLeaseMs: 60_000 })];
    const fenced: string[] = [];
    const sinkA = a.createPersistentSink({ onFenced: (runIds) => fenced.push(...runIds) });
    const sinkB = b.createPersistentSink({ onFenced: (runIds) => fenced.push(...runIds) });
    const [xa, xb, y] = [run('x'), run('x'), run('y')];
    xa.started();
    xa.thinking('from a');
    xb.started();
    xb.thinking('from b');
    y.started();
    const [fromA, other, fromB] = await Promise.allSettled([
      sinkA.write(xa.events),
      sinkA.write(y.events),
      sinkB.write(xb.events),
    ]);
    expect([fromA, fromB].filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(other.status).toBe('fulfilled');
    // The later creator is refused either way, with nothing of it stored: fenced in the commit's
    // transaction (the two creations overlapped), or refused by the batch's check when the earlier
    // creation had committed before that batch loaded the run (its seq 1 then follows the stored seq 2).
    const loser = [fromA, fromB].find((result) => result.status === 'rejected');
    const refusal = loser?.status === 'rejected' ? String(loser.reason) : '';
    if (fenced.length === 0) expect(refusal).toMatch(/expected seq 3 for run x/);
    else expect(fenced).toEqual(['x']);
    const winner = fromA.status === 'fulfilled' ? xa : xb;
    expect(await a.eventsAfter('x', 0)).toEqual(winner.events);
    expect(await a.eventsAfter('y', 0)).toEqual(y.events);
  }, 60_000);
});
