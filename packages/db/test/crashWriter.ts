/**
 * Child process of crash.test.ts: writes runs through the persistent sink as fast as it can
 * (40 concurrent runs, parallel tool calls, the dispatcher's write pattern) and prints the count of
 * committed events every 10 ms, until the parent kills it with SIGKILL. Bounded: it stops by
 * itself after 60 s if nobody kills it (the parent kills it long before, even on a loaded machine).
 *
 * Usage: node --import tsx test/crashWriter.ts <database path>
 */
import { openDatabase } from '../src/client.ts';
import { RunBuilder } from './fixtures.ts';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: crashWriter.ts <database path>');
const db = openDatabase({ path });
const sink = db.createPersistentSink();
const deadline = Date.now() + 60_000;

async function worker(index: number): Promise<void> {
  for (let n = 0; Date.now() < deadline; n += 1) {
    const run = new RunBuilder({ runId: `w${index}-r${n}`, userId: `user-${index % 5}`, startMs: Date.now() });
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
      const b = run.toolExecuting('fetch', { step });
      await push();
      run.toolCompleted(b);
      await push();
      run.toolCompleted(a, step === 2 ? 'error' : 'success');
      await push();
    }
    run.completed();
    await push();
  }
}

const timer = setInterval(() => process.stdout.write(`${sink.stats().events}\n`), 10);
await Promise.all(Array.from({ length: 40 }, (_, i) => worker(i)));
clearInterval(timer);
db.closeSync();
