import type { ToolrunServices } from '../services.ts';
import { toTRPCError } from '../toTRPCError.ts';

/**
 * A subscription's stream as the router serves it: counted in the services' open subscriptions
 * (`kind`) while it runs, its errors mapped to tRPC errors.
 */
export async function* served<T>(
  services: ToolrunServices,
  kind: 'runs' | 'feeds',
  stream: AsyncGenerator<T>,
): AsyncGenerator<T> {
  const release = services.trackSubscription(kind);
  try {
    yield* stream;
  } catch (error) {
    throw toTRPCError(error);
  } finally {
    release();
  }
}
