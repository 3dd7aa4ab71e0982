import { MAX_SWITCH_REASON_LENGTH } from '@toolrun/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { nameSchema } from '../schemas.ts';
import { adminProcedure, authedProcedure, createTRPCRouter } from '../trpc.ts';

/** The tool registry and its admin kill switch. */
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
