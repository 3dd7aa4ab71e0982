import { parseEventId } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { badInput } from '../badInput.ts';
import { findRun } from '../findRun.ts';
import {
  cursorSchema,
  eventIdSchema,
  idempotencyKeySchema,
  idSchema,
  limitSchema,
  nameSchema,
  runIdSchema,
} from '../schemas.ts';
import { startRun } from '../startRun.ts';
import { listRunsWithQueued, queuedRunRecord } from '../starts/listRunsWithQueued.ts';
import { served } from '../streams/served.ts';
import { streamFeed } from '../streams/streamFeed.ts';
import { streamRunEvents } from '../streams/streamRunEvents.ts';
import { toTRPCError } from '../toTRPCError.ts';
import { authedProcedure, createTRPCRouter } from '../trpc.ts';

const RUN_STATUS_FILTER = ['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;

function notFound(runId: string): TRPCError {
  return new TRPCError({ code: 'NOT_FOUND', message: `no run ${JSON.stringify(runId)}` });
}

/** Starting, following, cancelling and listing runs. A run another user owns is `NOT_FOUND`. */
export const runsRouter = createTRPCRouter({
  /**
   * Starts `agent` with `input` for the caller, detached from this connection. Refusals (unknown agent,
   * invalid input with its issues, limits) come before any event; then `{ runId, threadId }` once the
   * run is durable. With `idempotencyKey`, a repeat gets the same run (`CONFLICT` if its parameters
   * differ). At the caller's concurrent-run limit the run waits in their queue and the answer carries
   * `queued: { position }`, unless `onBusy: 'reject'` (then `TOO_MANY_REQUESTS`). See `starts/`.
   */
  start: authedProcedure
    .input(
      z.object({
        agent: nameSchema,
        input: z.json().optional(),
        threadId: idSchema.optional(),
        idempotencyKey: idempotencyKeySchema.optional(),
        onBusy: z.enum(['queue', 'reject']).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      try {
        return await startRun(ctx.services, ctx.principal, { ...input, traceContext: ctx.traceContext });
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /**
   * The run's events for its owner: history, then live, as `tracked(lastEvent.id, events)` messages;
   * completes after `agent_completed`. Resumes after `lastEventId` (tRPC fills it in on reconnect).
   */
  events: authedProcedure
    .input(z.object({ runId: runIdSchema, lastEventId: eventIdSchema.optional() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { services, principal } = ctx;
      // Ownership first: another user's run and a missing run look the same.
      const run = await findRun(services, input.runId);
      if (run === undefined || run.userId !== principal.userId) throw notFound(input.runId);
      let afterSeq = 0;
      if (input.lastEventId !== undefined) {
        const parsed = parseEventId(input.lastEventId);
        if (parsed === undefined || parsed.runId !== input.runId) {
          badInput(['lastEventId'], 'is not an event of this run');
        }
        if (parsed.seq > run.lastSeq) badInput(['lastEventId'], 'is past the last event of this run');
        afterSeq = parsed.seq;
      }
      // The client already has the whole of a finished run.
      if (run.finished && afterSeq === run.lastSeq) return;
      yield* served(
        services,
        'runs',
        streamRunEvents({ services, principal, runId: input.runId, afterSeq, signal, whenWritable: ctx.whenWritable }),
        ctx,
      );
    }),

  /**
   * The caller's events across runs (`scope: 'all'`: every user's, admins only, each delivery recorded
   * as an admin view). Live from now, or history after `lastEventId` first. Never completes.
   */
  feed: authedProcedure
    .input(z.object({ lastEventId: eventIdSchema.optional(), scope: z.enum(['own', 'all']).default('own') }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { services, principal } = ctx;
      if (input.scope === 'all' && !principal.roles.includes('admin')) {
        throw new TRPCError({ code: 'FORBIDDEN', message: "scope 'all' needs the admin role" });
      }
      yield* served(
        services,
        'feeds',
        streamFeed({
          services,
          principal,
          scope: input.scope,
          afterEventId: input.lastEventId,
          signal,
          whenWritable: ctx.whenWritable,
        }),
        ctx,
      );
    }),

  /** Cancels the caller's run; it still ends with its events. `cancelled: false` when it had already ended. */
  cancel: authedProcedure
    .input(z.object({ runId: runIdSchema, reason: z.string().max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const { services, principal } = ctx;
      const run = await findRun(services, input.runId);
      if (run === undefined || run.userId !== principal.userId) throw notFound(input.runId);
      // Ended already: nothing to cancel, nobody to tell.
      if (run.finished) return { runId: input.runId, cancelled: false };
      const reason = input.reason ?? `cancelled by ${principal.userId}`;
      // A queued run ends at once, with its agent_started and agent_completed (cancelled). One with a
      // committed event (its agent_started) is under way: not queued, no need to ask.
      if (run.lastSeq === 0 && (await services.starter.cancelQueued(input.runId, reason))) {
        services.logger.info({ runId: input.runId, userId: principal.userId }, 'queued run cancelled');
        return { runId: input.runId, cancelled: true };
      }
      const cancelled = await services.cancelRun(input.runId, reason);
      services.logger.info({ runId: input.runId, userId: principal.userId, cancelled }, 'run cancel requested');
      return { runId: input.runId, cancelled };
    }),

  /**
   * The caller's runs, newest first, paged. Admins may pass `userId` for one user's runs or
   * `scope: 'all'` for everyone's; for anyone else those are `FORBIDDEN`.
   */
  list: authedProcedure
    .input(
      z
        .object({
          limit: limitSchema,
          cursor: cursorSchema.optional(),
          status: z.enum(RUN_STATUS_FILTER).optional(),
          agent: nameSchema.optional(),
          userId: idSchema.optional(),
          scope: z.enum(['own', 'all']).default('own'),
        })
        .default({ limit: 20, scope: 'own' }),
    )
    .query(async ({ ctx, input }) => {
      const { services, principal } = ctx;
      const admin = principal.roles.includes('admin');
      if (!admin && ((input.userId !== undefined && input.userId !== principal.userId) || input.scope === 'all')) {
        throw new TRPCError({ code: 'FORBIDDEN', message: "listing other users' runs needs the admin role" });
      }
      const userId = input.userId ?? (input.scope === 'all' ? undefined : principal.userId);
      try {
        return await listRunsWithQueued(services, { ...input, userId });
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /** One run with its events and tool calls, for its owner or an admin. */
  get: authedProcedure.input(z.object({ runId: runIdSchema })).query(async ({ ctx, input }) => {
    const { services, principal } = ctx;
    const run = await findRun(services, input.runId);
    if (run === undefined || (run.userId !== principal.userId && !principal.roles.includes('admin'))) {
      throw notFound(input.runId);
    }
    const queued = await services.starter.queued(input.runId);
    if (queued !== undefined) return { run: queuedRunRecord(queued), events: [], toolCalls: [] };
    let detail = await services.db.getRun(input.runId);
    if (detail === undefined) {
      // Started but its first event not committed yet: commit, then read.
      await services.sink.flush();
      detail = await services.db.getRun(input.runId);
    }
    if (detail === undefined) throw notFound(input.runId);
    return detail;
  }),
});
