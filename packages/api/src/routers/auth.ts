import { z } from 'zod';
import { idSchema } from '../schemas.ts';
import { toTRPCError } from '../toTRPCError.ts';
import { authedProcedure, createTRPCRouter, publicProcedure } from '../trpc.ts';

/** `auth.login` (development identity provider) and `auth.me`. */
export const authRouter = createTRPCRouter({
  /**
   * Signs a token for `userId` (with the admin role when `role: 'admin'`). Only in development auth
   * mode; with `TOOLRUN_AUTH_MODE=external` it is `FORBIDDEN` and tokens come from your identity provider.
   */
  login: publicProcedure
    .input(z.object({ userId: idSchema, role: z.enum(['user', 'admin']).default('user') }))
    .mutation(async ({ ctx, input }) => {
      try {
        const issued = await ctx.services.auth.issue({
          userId: input.userId,
          roles: input.role === 'admin' ? ['user', 'admin'] : ['user'],
        });
        ctx.services.logger.info({ userId: input.userId, role: input.role }, 'dev login');
        return { token: issued.token, expiresAt: issued.expiresAt, user: issued.principal };
      } catch (error) {
        throw toTRPCError(error);
      }
    }),

  /** The caller, as the token says. */
  me: authedProcedure.query(({ ctx }) => ({
    userId: ctx.principal.userId,
    roles: [...ctx.principal.roles],
    isAdmin: ctx.principal.roles.includes('admin'),
    expiresAt: ctx.tokenExpiresAtMs === null ? null : new Date(ctx.tokenExpiresAtMs).toISOString(),
    authMode: ctx.services.auth.mode,
  })),
});
