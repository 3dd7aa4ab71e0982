import { authedProcedure, createTRPCRouter } from '../trpc.ts';

/** `tools.list`: the tools the caller may use (admin tools for admins only), each with its input's JSON Schema. */
export const toolsRouter = createTRPCRouter({
  list: authedProcedure.query(({ ctx }) => ctx.services.factory.tools.listFor(ctx.principal.roles)),
});
