import { isLoopbackHost } from './hostGuard.ts';

/**
 * Why the development identity provider must not serve on `host`, or undefined when it may. It
 * signs a token for any user id and role that asks, so off the loopback interface anyone who can
 * reach the port could sign in as an admin: that needs `allowNetwork`
 * (`TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK=true`), and the server then warns at every start.
 */
export function devAuthExposureProblem(opts: {
  host: string;
  authMode: 'dev' | 'external';
  allowNetwork: boolean;
}): string | undefined {
  if (opts.authMode !== 'dev' || opts.allowNetwork || isLoopbackHost(opts.host)) return undefined;
  return (
    `refusing to serve the development identity provider on ${opts.host}: anyone who can reach it could sign in as any user, admin included. ` +
    'Listen on 127.0.0.1 (the default), use TOOLRUN_AUTH_MODE=external with your identity provider, ' +
    'or set TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK=true if that is really what you want'
  );
}
