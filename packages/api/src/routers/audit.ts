import type { JsonValue } from '@toolrun/dispatcher';
import { runIsolationProbe } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { launchProbeRun } from '../cluster/launchProbeRun.ts';
import { cursorSchema, limitSchema, nameSchema } from '../schemas.ts';
import { toTRPCError } from '../toTRPCError.ts';
import { adminProcedure, createTRPCRouter } from '../trpc.ts';

/** The agent the isolation probe runs when none is named: deterministic and quick. */
export const DEFAULT_PROBE_AGENT = 'calculator';
/** Most runs one probe may start. */
export const MAX_PROBE_RUNS = 10_000;

/** Isolation audits: run an active probe (stored), list and read stored audits. Admins only. */
export const auditRouter = createTRPCRouter({
  isolation: createTRPCRouter({
    /**
     * Runs `users` synthetic users × `runsPerUser` concurrent runs of `agent`, checks that no event
     * crossed users and no scope leaked, stores the report and returns it.
     */
    run: adminProcedure
      .input(
        z
          .object({
            users: z.number().int().min(1).max(1_000),
            runsPerUser: z.number().int().min(1).max(100),
            agent: nameSchema.default(DEFAULT_PROBE_AGENT),
            input: z.json().optional(),
          })
          .refine((i) => i.users * i.runsPerUser <= MAX_PROBE_RUNS, {
            message: `users × runsPerUser must be at most ${MAX_PROBE_RUNS}`,
            path: ['runsPerUser'],
          }),
      )
      .mutation(async ({ ctx, input, signal }) => {
        const { services, principal } = ctx;
        const probeInput = input.input ?? {};
        if (Buffer.byteLength(JSON.stringify(probeInput), 'utf8') > services.config.maxRunInputBytes) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'input is too large' });
        }
        try {
          const report = await runIsolationProbe({
            factory: services.factory,
            hub: services.hub,
            agent: input.agent,
            input: probeInput,
            users: input.users,
            runsPerUser: input.runsPerUser,
            ...(signal === undefined ? {} : { signal }),
            // Cluster mode: the probe's runs go to the workers, its subscriptions follow them through Redis.
            ...(services.runsElsewhere
              ? {
                  launch: (userId: string) =>
                    launchProbeRun(services, { userId, agent: input.agent, input: probeInput }),
                }
              : {}),
          });
          const violations =
            report.crossUserDeliveries.length +
            report.missingDeliveryCount +
            report.leakedScopes +
            report.sharedContexts +
            report.contractViolations;
          const params: JsonValue = {
            users: input.users,
            runsPerUser: input.runsPerUser,
            agent: input.agent,
            input: probeInput,
          };
          const stored = await services.db.insertAudit({
            ranBy: principal.userId,
            params,
            report: JSON.parse(JSON.stringify(report)) as JsonValue,
            violations,
          });
          services.logger.info({ auditId: stored.id, passed: report.passed, violations }, 'isolation audit stored');
          return { ...stored, report };
        } catch (error) {
          throw toTRPCError(error);
        }
      }),
  }),

  /** Stored audits, newest first, without their reports. */
  list: adminProcedure
    .input(z.object({ limit: limitSchema, cursor: cursorSchema.optional() }).default({ limit: 20 }))
    .query(async ({ ctx, input }) => {
      try {
        return await ctx.services.db.listAudits({
          limit: input.limit,
          ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
        });
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /** One stored audit with its report. */
  get: adminProcedure.input(z.object({ id: z.string().min(1).max(64) })).query(async ({ ctx, input }) => {
    const audit = await ctx.services.db.getAudit(input.id);
    if (audit === undefined)
      throw new TRPCError({ code: 'NOT_FOUND', message: `no audit ${JSON.stringify(input.id)}` });
    return audit;
  }),
});
