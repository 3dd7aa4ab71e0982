import { agentsRouter } from './routers/agents.ts';
import { approvalsRouter } from './routers/approvals.ts';
import { auditRouter } from './routers/audit.ts';
import { authRouter } from './routers/auth.ts';
import { metricsRouter } from './routers/metrics.ts';
import { runsRouter } from './routers/runs.ts';
import { toolsRouter } from './routers/tools.ts';
import { createTRPCRouter } from './trpc.ts';

/**
 * The Toolrun API: the procedure table of ARCHITECTURE.md. Mount it with any tRPC adapter and
 * {@link createContext}; a typed client infers everything from {@link AppRouter}.
 */
export const appRouter = createTRPCRouter({
  auth: authRouter,
  tools: toolsRouter,
  agents: agentsRouter,
  runs: runsRouter,
  audit: auditRouter,
  metrics: metricsRouter,
  approvals: approvalsRouter,
});

/** The router's type, for typed clients: `createTRPCClient<AppRouter>(…)`. */
export type AppRouter = typeof appRouter;
