import type { RunEvent } from '@toolrun/dispatcher';
import { isDispatchError, isTerminalEvent } from '@toolrun/dispatcher';
import type { TrackedEnvelope } from '@trpc/server';
import { tracked } from '@trpc/server';
import type { Principal } from '../auth/createAuth.ts';
import type { WhenWritable } from '../context.ts';
import type { ToolrunServices } from '../services.ts';
import { abortOn } from './abortOn.ts';

/** Options of {@link streamRunEvents}. Ownership must have been checked by the caller. */
export interface StreamRunEventsOptions {
  services: ToolrunServices;
  principal: Principal;
  runId: string;
  /** Seq of the last event the client has; 0 for the whole run. */
  afterSeq: number;
  /** The transport's signal: aborted when the client goes away. */
  signal?: AbortSignal | undefined;
  /** The connection's backpressure, awaited before each message. */
  whenWritable?: WhenWritable | null | undefined;
}

/**
 * One run's events for its owner: history from the database, then live events from the hub, as
 * `tracked(lastEvent.id, events)` messages of one or more consecutive events, ending after
 * `agent_completed`. The hub subscription is opened before the database is read, and live events
 * at or below the last delivered seq are dropped, so nothing is lost or sent twice. When the hub
 * cuts the subscription off (`SLOW_CONSUMER`), it is reopened and the gap is read from the
 * database: the client sees one uninterrupted stream, however often it falls behind (each recovery
 * delivers the gap, so a finite run always ends); so is a resync (`services.resync()`, when a
 * cluster's live path may have lost events). Before each message it waits until the
 * connection can take more (`whenWritable`), so a slow reader is served at its own pace.
 */
export async function* streamRunEvents(opts: StreamRunEventsOptions): AsyncGenerator<TrackedEnvelope<RunEvent[]>> {
  const { services, principal, runId } = opts;
  const page = services.config.replayPageSize;
  const stop = abortOn([opts.signal, services.signal]);
  let lastSeq = opts.afterSeq;
  try {
    for (;;) {
      if (stop.signal.aborted) return;
      // A resync (the cluster's live path may have lost events) ends this round: the gap is read again.
      const round = new AbortController();
      const unlisten = services.onResync(() => round.abort());
      const signal = AbortSignal.any([stop.signal, round.signal]);
      const subscription = services.hub.subscribe({ principal, runId, signal });
      try {
        // History first: everything committed before (and while) the subscription opened.
        for (;;) {
          const stored = await services.db.eventsAfter(runId, lastSeq, page);
          const last = stored.at(-1);
          if (last === undefined) break;
          // The read is asynchronous (PostgreSQL): the stream may have been stopped meanwhile.
          if (stop.signal.aborted) return;
          await opts.whenWritable?.(stop.signal);
          if (stop.signal.aborted) return;
          record(services, principal, stored);
          lastSeq = last.seq;
          yield tracked(last.id, stored);
          if (isTerminalEvent(last)) return;
          if (stored.length < page) break;
        }
        for await (const batch of subscription) {
          let fresh = batch.filter((e) => e.runId === runId && e.seq > lastSeq);
          const first = fresh[0];
          if (first === undefined) continue;
          if (first.seq !== lastSeq + 1) {
            // A gap: the events in between are committed, so the database has them.
            fresh = await services.db.eventsAfter(runId, lastSeq, page);
            record(services, principal, fresh);
          }
          const last = fresh.at(-1);
          if (last === undefined) continue;
          // Awaited only when the connection is full: an `await undefined` costs every message a
          // microtask turn behind everything else queued (issue 21).
          const full = opts.whenWritable?.(stop.signal);
          if (full !== undefined) await full;
          if (stop.signal.aborted) return;
          lastSeq = last.seq;
          yield tracked(last.id, fresh);
          if (isTerminalEvent(last)) return;
        }
        if (round.signal.aborted && !stop.signal.aborted) continue;
        // The subscription was closed (client gone or shutting down).
        return;
      } catch (error) {
        if (!isDispatchError(error, 'SLOW_CONSUMER')) throw error;
        services.logger.warn({ runId, userId: principal.userId, lastSeq }, 'slow consumer: resuming from the database');
      } finally {
        unlisten();
        subscription.close();
      }
    }
  } finally {
    stop.dispose();
  }
}

/** Backfilled events are deliveries too: the ledger sees them like the hub's own. */
function record(services: ToolrunServices, principal: Principal, events: readonly RunEvent[]): void {
  for (const event of events) services.ledger.record({ event, recipientUserId: principal.userId, adminView: false });
}
