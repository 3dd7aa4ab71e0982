import { MAX_SWITCH_REASON_LENGTH } from '@toolrun/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { badInput } from '../badInput.ts';
import { startToolRun } from '../runs/startToolRun.ts';
import { idSchema, nameSchema } from '../schemas.ts';
import { toTRPCError } from '../toTRPCError.ts';
import { adminProcedure, authedProcedure, createTRPCRouter } from '../trpc.ts';

/** The tool registry, one-call tool runs, and the admin kill switch. */
export const toolsRouter = createTRPCRouter({
  /**
   * The tools the caller may use (admin tools for admins only), each with its input's JSON Schema and
   * its kill-switch state (`enabled`, and the last change: who, when, why).
   */
  list: authedProcedure.query(({ ctx }) =>
    ctx.services.factory.tools.listFor(ctx.principal.roles).map((info) => ({
      ...info,
      ...ctx.services.toolSwitches.state(info.name),
    })),
  ),

  /**
   * Runs one tool directly, without an agent, as a one-call run of the caller (the dispatcher's direct
   * run, agent `"(direct)"`): `{ runId, threadId }` once the run is durable, while the call goes on.
   * Follow it with `runs.events`, stop it with `runs.cancel`, find it in `runs.list`. A tool the caller
   * may not use is `NOT_FOUND` before any event; the input is checked by the tool's schema inside
   * the run (an invalid input is a `tool_completed` with `INVALID_INPUT`, as for an agent's call).
   */
  run: authedProcedure
    .input(z.object({ tool: nameSchema, input: z.json().optional(), threadId: idSchema.optional() }))
    .mutation(async ({ ctx, input }) => {
      const { services, principal } = ctx;
      const toolInput = input.input ?? {};
      const bytes = Buffer.byteLength(JSON.stringify(toolInput), 'utf8');
      if (bytes > services.config.maxRunInputBytes) {
        badInput(['input'], `must be at most ${services.config.maxRunInputBytes} bytes as JSON, got ${bytes}`);
      }
      try {
        const handle = await startToolRun(services, {
          principal,
          tool: input.tool,
          input: toolInput,
          threadId: input.threadId,
          traceContext: ctx.traceContext,
        });
        // Acknowledge only a durable run (see runs.start): agent_started is with the sink by now.
        await Promise.resolve();
        await services.sink.flush();
        return { runId: handle.runId, threadId: handle.threadId };
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /**
   * Turns a tool off (its calls complete at once with `status: 'error'`, `TOOL_DISABLED`) or on again,
   * for the next call. Durable across restarts and audited: the change records who, when and why.
   */
  setEnabled: adminProcedure
    .input(
      z.object({
        tool: nameSchema,
        enabled: z.boolean(),
        reason: z.string().trim().min(1, 'say why').max(MAX_SWITCH_REASON_LENGTH),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { services, principal } = ctx;
      if (services.factory.tools.get(input.tool) === undefined) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `no tool named ${JSON.stringify(input.tool)}` });
      }
      const record = await services.toolSwitches.set({ ...input, changedBy: principal.userId });
      services.logger.warn(
        { tool: record.tool, enabled: record.enabled, reason: record.reason, changedBy: record.changedBy },
        record.enabled ? 'tool enabled by an admin' : 'tool disabled by an admin',
      );
      return record;
    }),

  /** Kill-switch changes, newest first, of one tool or all. */
  switchHistory: adminProcedure
    .input(z.object({ tool: nameSchema.optional(), limit: z.number().int().min(1).max(500).default(100) }).optional())
    .query(({ ctx, input }) =>
      ctx.services.toolSwitches.history({
        limit: input?.limit ?? 100,
        ...(input?.tool === undefined ? {} : { tool: input.tool }),
      }),
    ),
});
