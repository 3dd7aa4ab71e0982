import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { Committer } from './committer.ts';
import type { WriteBatch } from './writeBatch.js';

/** What the writer thread starts with (`workerData`). */
export interface WriterThreadData {
  path: string;
  busyTimeoutMs: number;
  /** Requests in, replies out. */
  port: MessagePort;
  /** Incremented after every reply, so a synchronous wait (`Atomics.wait`) wakes up. */
  signal: Int32Array;
}

/** Main thread → writer thread. */
export type WriterRequest = { type: 'commit'; id: number; batch: WriteBatch } | { type: 'close' };

/** Writer thread → main thread. */
export type WriterReply =
  | { type: 'committed'; id: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'broken'; message: string }
  | { type: 'closed' };

interface InFlight {
  id: number;
  done: (error?: unknown) => void;
}

/**
 * Commits on a worker thread with its own connection to the file, so that transactions and WAL
 * checkpoints leave the event loop. One batch is in flight at a time; `done` runs on this thread
 * when the writer acknowledges, after which reads on this thread's connection see the commit (WAL).
 * `settleSync` and `close` wait synchronously (`Atomics.wait` + `receiveMessageOnPort`), so
 * `ToolrunDatabase.close()` stays synchronous. If the thread dies or cannot open the file, the batch
 * in flight fails and later batches are committed by `fallback()` (the inline committer).
 */
export function createThreadCommitter(opts: {
  path: string;
  busyTimeoutMs: number;
  fallback: () => Committer;
}): Committer {
  const { port1: port, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const data: WriterThreadData = { path: opts.path, busyTimeoutMs: opts.busyTimeoutMs, port: port2, signal };
  // Plain JavaScript, so no loader is needed (nor inherited: `execArgv: []` keeps tsx out of the thread).
  const worker = new Worker(new URL('./writerWorker.js', import.meta.url), {
    workerData: data,
    transferList: [port2],
    execArgv: [],
  });
  // Waits longer than a statement may wait for the lock; only a dead thread gets this far.
  const syncWaitMs = opts.busyTimeoutMs + 30_000;
  let nextId = 1;
  let inFlight: InFlight | undefined;
  let broken: Error | undefined;
  let fallback: Committer | undefined;
  let closedAck = false;

  const idle = (): void => {
    worker.unref();
    port.unref();
  };
  const settle = (error?: unknown): void => {
    if (inFlight === undefined) return;
    // Called as a plain function: a stack trace captured under `done` keeps no InFlight alive.
    const { done } = inFlight;
    inFlight = undefined;
    idle();
    done(error);
  };
  const breakDown = (error: Error): void => {
    if (broken === undefined) {
      broken = error;
      process.emitWarning(`the SQLite writer thread stopped (${error.message}); committing on the main thread`, {
        code: 'TOOLRUN_DB_WRITER_THREAD',
      });
    }
    if (inFlight !== undefined) settle(error);
  };
  const handle = (reply: WriterReply): void => {
    switch (reply.type) {
      case 'committed':
        if (inFlight?.id === reply.id) settle();
        return;
      case 'failed':
        if (inFlight?.id === reply.id) settle(new Error(reply.message));
        return;
      case 'broken':
        breakDown(new Error(reply.message));
        return;
      case 'closed':
        closedAck = true;
        return;
      default: {
        const never: never = reply;
        throw new Error(`unknown reply ${JSON.stringify(never)}`);
      }
    }
  };
  port.on('message', handle);
  worker.on('error', (error) => breakDown(error));
  worker.on('exit', (code) => {
    if (!closedAck) breakDown(new Error(`the writer thread exited with code ${code}`));
  });
  idle();

  /** Handles replies synchronously until `until()` holds or the guard time passes; returns whether it held. */
  const waitSync = (until: () => boolean): boolean => {
    const deadline = Date.now() + syncWaitMs;
    while (!until()) {
      const seen = Atomics.load(signal, 0);
      const message = receiveMessageOnPort(port);
      if (message !== undefined) {
        handle(message.message as WriterReply);
        continue;
      }
      if (Date.now() > deadline) return false;
      Atomics.wait(signal, 0, seen, 100);
    }
    return true;
  };

  return {
    sync: false,
    commit(batch, done) {
      if (broken !== undefined) {
        fallback ??= opts.fallback();
        fallback.commit(batch, done);
        return;
      }
      inFlight = { id: nextId, done };
      nextId += 1;
      worker.ref();
      port.ref();
      const request: WriterRequest = { type: 'commit', id: inFlight.id, batch };
      port.postMessage(request);
    },
    settleSync() {
      if (inFlight === undefined) return;
      if (!waitSync(() => inFlight === undefined)) {
        breakDown(new Error(`the writer thread did not answer within ${syncWaitMs} ms`));
      }
    },
    close() {
      if (broken === undefined && !closedAck) {
        const request: WriterRequest = { type: 'close' };
        port.postMessage(request);
        // Wait for the thread's connection to close, so the file's last close (ours) checkpoints the WAL.
        waitSync(() => closedAck || broken !== undefined);
      }
      closedAck = true;
      port.close();
      void worker.terminate();
      fallback?.close();
    },
  };
}
