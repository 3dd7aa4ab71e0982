import { APPROVAL_STATUSES, isDispatchError } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { cursorSchema, limitSchema, runIdSchema } from '../schemas.ts';
import type { ToolrunServices } from '../services.ts';
import { toTRPCError } from '../toTRPCError.ts';
import { authedProcedure, createTRPCRouter } from '../trpc.ts';

const approvalIdSchema = z.string().min(1).max(200);

function notFound(approvalId: string): TRPCError {
  return new TRPCError({ code: 'NOT_FOUND', message: `no approval ${JSON.stringify(approvalId.slice(0, 200))}` });
}

async function alreadySettled(services: ToolrunServices, approvalId: string): Promise<TRPCError> {
  const row = await services.db.approvals.get(approvalId).catch(() => undefined);
  const how = row === undefined ? 'settled' : row.decidedBy === null ? row.status : `${row.status} by ${row.decidedBy}`;
  return new TRPCError({ code: 'CONFLICT', message: `approval ${approvalId} was already ${how}` });
}

/**
 * Human approval of tool calls (README, "Approvals"): list the caller's approvals, and approve or
 * deny a waiting call. Another user's approval is `NOT_FOUND` (admins see everyone's); the first
 * decision wins and a later one is `CONFLICT`.
 */
export const approvalsRouter = createTRPCRouter({
  /** The caller's approvals, newest first, paged; `scope: 'all'` is everyone's (admins only). */
  list: authedProcedure
    .input(
      z
        .object({
          status: z.enum(APPROVAL_STATUSES).optional(),
          runId: runIdSchema.optional(),
          cursor: cursorSchema.optional(),
          limit: limitSchema,
          scope: z.enum(['own', 'all']).default('own'),
        })
        .default({ limit: 20, scope: 'own' }),
    )
    .query(async ({ ctx, input }) => {
      const { services, principal } = ctx;
      if (input.scope === 'all' && !principal.roles.includes('admin')) {
        throw new TRPCError({ code: 'FORBIDDEN', message: "scope 'all' needs the admin role" });
      }
      try {
        return await services.db.approvals.list({
          limit: input.limit,
          ...(input.scope === 'all' ? {} : { userId: principal.userId }),
          ...(input.status === undefined ? {} : { status: input.status }),
          ...(input.runId === undefined ? {} : { runId: input.runId }),
          ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
        });
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /**
   * Approves or denies a waiting call, for the run's owner or an admin as the tool's `approvers`
   * allow (`FORBIDDEN` otherwise). Compare-and-set: the first decision wins; a second one, or one
   * after the deadline or the run's end, is `CONFLICT`. Returns the approval as stored.
   */
  decide: authedProcedure
    .input(
      z.object({
        approvalId: approvalIdSchema,
        decision: z.enum(['approve', 'deny']),
        reason: z.string().max(500).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { services, principal } = ctx;
      const row = await services.db.approvals.get(input.approvalId).catch((error: unknown) => {
        throw toTRPCError(error);
      });
      // Ownership first: another user's approval and a missing one look the same.
      if (row === undefined || (row.userId !== principal.userId && !principal.roles.includes('admin'))) {
        throw notFound(input.approvalId);
      }
      if (row.status !== 'pending') throw await alreadySettled(services, input.approvalId);
      try {
        await services.decideApproval({
          approvalId: input.approvalId,
          decision: input.decision,
          by: { userId: principal.userId, roles: principal.roles },
          ...(input.reason === undefined ? {} : { reason: input.reason }),
        });
      } catch (error) {
        // Settled between the read and the decision (another decision, the deadline, a cancel).
        if (isDispatchError(error, 'APPROVAL_DECIDED') || isDispatchError(error, 'APPROVAL_NOT_FOUND')) {
          if ((await services.db.approvals.get(input.approvalId).catch(() => undefined))?.status !== 'pending') {
            throw await alreadySettled(services, input.approvalId);
          }
        }
        throw toTRPCError(error);
      }
      services.logger.info(
        { approvalId: input.approvalId, runId: row.runId, decision: input.decision, by: principal.userId },
        'approval decided',
      );
      const decided = await services.db.approvals.get(input.approvalId).catch((error: unknown) => {
        throw toTRPCError(error);
      });
      if (decided === undefined) throw notFound(input.approvalId);
      return decided;
    }),
});
