/**
 * Child process of the PostgreSQL multi-process tests: opens the database at `<url>` and writes
 * `<runs>` runs named `<prefix>-<n>` through the persistent sink, 8 at a time, in the dispatcher's
 * write pattern (users `user-0` … `user-3`, shared with the other writer). `finish`: every run
 * completes, then the process closes the database and exits. `hold`: every run stops with a tool
 * call open, the process prints `held` and waits to be killed (bounded: it exits after 60 s).
 *
 * `[runLeaseMs]`: open with per-run leases of that length.
 *
 * Usage: node --import tsx test/pgWriter.ts <url> <prefix> <runs> <finish|hold> [runLeaseMs]
 */
import { openStorage } from '../src/openStorage.ts';
import { RunBuilder } from './fixtures.ts';

const [url, prefix, count, mode, leaseMs] = process.argv.slice(2);
if (url === undefined || prefix === undefined || count === undefined || (mode !== 'finish' && mode !== 'hold')) {
  throw new Error('usage: pgWriter.ts <url> <prefix> <runs> <finish|hold> [runLeaseMs]');
}
const db = await openStorage({ location: url, ...(leaseMs === undefined ? {} : { runLeaseMs: Number(leaseMs) }) });
const sink = db.createPersistentSink();
let next = 0;

async function worker(): Promise<void> {
  for (let n = next++; n < Number(count); n = next++) {
    const run = new RunBuilder({ runId: `${prefix}-${n}`, userId: `user-${n % 4}`, startMs: Date.now() });
    let written = 0;
    const push = async () => {
      const chunk = run.events.slice(written);
      written = run.events.length;
      await sink.write(chunk);
    };
    run.started();
    await push();
    for (let step = 0; step < 3; step += 1) {
      run.thinking(`step ${step}`);
      const a = run.toolExecuting('search', { step });
      await push();
      if (mode === 'hold' && step === 2) break;
      run.toolCompleted(a, step === 1 ? 'error' : 'success');
      await push();
    }
    if (mode === 'finish') {
      run.completed();
      await push();
    }
  }
}

await Promise.all(Array.from({ length: 8 }, () => worker()));
if (mode === 'finish') {
  await db.close();
} else {
  process.stdout.write('held\n');
  setTimeout(() => process.exit(3), 60_000);
}
