import type { Principal } from '../auth/createAuth.ts';
import type { Context } from '../context.ts';
import type { ToolrunServices } from '../services.ts';
import { toTRPCError } from '../toTRPCError.ts';

/** The caller of a subscription: whose it is, and the connection it holds open. */
export type SubscriptionCaller = Pick<Context, 'connection'> & { readonly principal: Principal };

/**
 * A subscription's stream as the router serves it: counted in the services' open subscriptions
 * (`kind`) while it runs, its errors mapped to tRPC errors. With the `caller`, it is also counted
 * against the caller's caps, and refused with `TOO_MANY_REQUESTS` before it starts when one is reached.
 */
export async function* served<T>(
  services: ToolrunServices,
  kind: 'runs' | 'feeds',
  stream: AsyncGenerator<T>,
  caller?: SubscriptionCaller,
): AsyncGenerator<T> {
  let release: () => void;
  try {
    release = services.trackSubscription(
      kind,
      caller === undefined ? undefined : { userId: caller.principal.userId, connection: caller.connection },
    );
  } catch (error) {
    await stream.return(undefined);
    throw toTRPCError(error);
  }
  try {
    yield* stream;
  } catch (error) {
    throw toTRPCError(error);
  } finally {
    release();
  }
}
