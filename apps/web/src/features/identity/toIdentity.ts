import type { RouterOutputs } from '@toolrun/api';
import type { Identity } from '../../lib/sessionStore.ts';

/** What `auth.login` returns. */
export type LoginOutput = RouterOutputs['auth']['login'];

/** The tab's {@link Identity} from a login: the token and the principal it was signed for. */
export function toIdentity(output: LoginOutput): Identity {
  return { token: output.token, userId: output.user.userId, roles: [...output.user.roles] };
}
