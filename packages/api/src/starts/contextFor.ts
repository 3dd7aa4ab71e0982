import type { DispatcherFactory, UserExecutionContext } from '@toolrun/dispatcher';
import type { Principal } from '../auth/createAuth.ts';

/**
 * The context of a run `principal` starts (a fresh run id; `threadId` continues a conversation, a new
 * thread when absent): the first step of every start, whichever starter or door.
 */
export function contextFor(
  factory: DispatcherFactory,
  principal: Principal,
  threadId: string | undefined,
): UserExecutionContext {
  return factory.createContext({
    userId: principal.userId,
    roles: principal.roles,
    ...(threadId === undefined ? {} : { threadId }),
  });
}
