import { authedProcedure, createTRPCRouter } from '../trpc.ts';

/** `agents.list`: the agents the caller may start (admin-only agents for admins only), with JSON Schema. */
export const agentsRouter = createTRPCRouter({
  list: authedProcedure.query(({ ctx }) => {
    const admin = ctx.principal.roles.includes('admin');
    return ctx.services.factory.agents.list().filter((agent) => admin || agent.access !== 'admin');
  }),
});
