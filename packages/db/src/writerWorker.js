// The writer thread of a file database (see threadCommitter.ts). Plain JavaScript: worker threads
// load it natively, under vitest as under `node --import tsx`.
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createBatchExecutor } from './writeBatch.js';

/** @type {import('./threadCommitter.ts').WriterThreadData} */
const data = workerData;
const { port, signal } = data;

/** @param {import('./threadCommitter.ts').WriterReply} reply */
function reply(reply) {
  port.postMessage(reply);
  // Wakes the main thread when it waits synchronously (close()) instead of on its event loop.
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

/** @type {import('better-sqlite3').Database | undefined} */
let sqlite;
/** @type {((batch: import('./writeBatch.js').WriteBatch) => void) | undefined} */
let commit;
try {
  sqlite = new Database(data.path, { timeout: data.busyTimeoutMs, fileMustExist: true });
  sqlite.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const executor = createBatchExecutor(sqlite);
  const transaction = sqlite.transaction((/** @type {import('./writeBatch.js').WriteBatch} */ batch) =>
    executor.execute(batch),
  );
  // IMMEDIATE takes the write lock up front, waiting through busy_timeout for the main thread's writes.
  commit = (batch) => transaction.immediate(batch);
} catch (error) {
  sqlite?.close();
  sqlite = undefined;
  reply({ type: 'broken', message: error instanceof Error ? error.message : String(error) });
}

port.on('message', (/** @type {import('./threadCommitter.ts').WriterRequest} */ request) => {
  switch (request.type) {
    case 'commit': {
      if (commit === undefined) {
        reply({ type: 'failed', id: request.id, message: 'the writer thread has no connection' });
        return;
      }
      try {
        commit(request.batch);
        reply({ type: 'committed', id: request.id });
      } catch (error) {
        reply({ type: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    case 'close':
      sqlite?.close();
      sqlite = undefined;
      commit = undefined;
      reply({ type: 'closed' });
      port.close();
      return;
    default: {
      /** @type {never} */
      const never = request;
      throw new Error(`unknown request ${JSON.stringify(never)}`);
    }
  }
});
