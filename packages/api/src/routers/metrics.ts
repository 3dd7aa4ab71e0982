import { authedProcedure, createTRPCRouter } from '../trpc.ts';

/** `metrics.snapshot`: the dispatcher's figures (plain JSON) for the console. */
export const metricsRouter = createTRPCRouter({
  snapshot: authedProcedure.query(({ ctx }) => ({
    ...ctx.services.metrics.snapshot(),
    liveScopes: ctx.services.factory.liveScopes(),
    activeRuns: ctx.services.factory.activeRuns().length,
  })),
});
