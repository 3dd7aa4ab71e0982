import type { Principal, ToolrunServices } from '@toolrun/api';
import { streamRunEvents } from '@toolrun/api';
import type { AguiEventMapper } from '../mapping/AguiEventMapper.ts';
import type { SseStream } from './SseStream.ts';

/** Options of {@link pipeRun}. Ownership must have been checked by the caller. */
export interface PipeRunOptions {
  services: ToolrunServices;
  principal: Principal;
  runId: string;
  /** Seq of the last event the client has (0 for the whole run); `mapper` has seen up to it. */
  afterSeq: number;
  mapper: AguiEventMapper;
  stream: SseStream;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/**
 * Streams a run's events after `afterSeq` to an AG-UI client through the same resumable machinery as
 * the tRPC subscriptions (`streamRunEvents`: history, then live, duplicates dropped by seq, deliveries
 * recorded, the connection's backpressure awaited), each event mapped to AG-UI events and written
 * with its id. Resolves when the run's `agent_completed` is written, or when `signal` aborts.
 */
export async function pipeRun(opts: PipeRunOptions): Promise<void> {
  const { services, mapper, stream } = opts;
  const release = services.trackSubscription('runs');
  try {
    for await (const [, events] of streamRunEvents({
      services,
      principal: opts.principal,
      runId: opts.runId,
      afterSeq: opts.afterSeq,
      signal: opts.signal,
      whenWritable: stream.whenWritable,
    })) {
      for (const event of events) stream.send(mapper.map(event), event.id);
    }
  } finally {
    release();
  }
}
