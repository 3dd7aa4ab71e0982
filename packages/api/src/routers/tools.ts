import { z } from 'zod';
import { badInput } from '../badInput.ts';
import { startToolRun } from '../runs/startToolRun.ts';
import { idSchema, nameSchema } from '../schemas.ts';
import { toTRPCError } from '../toTRPCError.ts';
import { authedProcedure, createTRPCRouter } from '../trpc.ts';

/** `tools.list`: the tools the caller may use (admin tools for admins only), each with its input's JSON Schema. */
export const toolsRouter = createTRPCRouter({
  list: authedProcedure.query(({ ctx }) => ctx.services.factory.tools.listFor(ctx.principal.roles)),

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
        const handle = startToolRun(services, {
          principal,
          tool: input.tool,
          input: toolInput,
          threadId: input.threadId,
        });
        // Acknowledge only a durable run (see runs.start): agent_started is with the sink by now.
        await Promise.resolve();
        await services.sink.flush();
        return { runId: handle.runId, threadId: handle.threadId };
      } catch (error) {
        throw toTRPCError(error);
      }
    }),
});
