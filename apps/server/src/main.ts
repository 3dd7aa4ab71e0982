import { loadOrCreateSecret } from '@toolrun/api';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { EnvError, readEnv, type ServerEnv } from './env.ts';
import { startServer } from './startServer.ts';

/**
 * `pnpm --filter @toolrun/server start`: reads the configuration once, starts the server and stops
 * it gracefully on SIGTERM or SIGINT (a second signal exits at once).
 */
async function main(): Promise<void> {
  let env: ServerEnv;
  try {
    env = readEnv(process.env);
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`toolrun: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // A person at a terminal reads lines; a log collector (stdout not a terminal) gets JSON, as before.
  const readable = env.logFormat === 'pretty' || (env.logFormat === 'auto' && process.stdout.isTTY === true);
  const options = { level: env.logLevel, base: { service: 'toolrun' } };
  const logger = readable
    ? pino(
        options,
        pretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }),
      )
    : pino(options);
  const server = await startServer({
    database: env.databaseUrl ?? env.dbPath,
    port: env.port,
    host: env.host,
    dataDir: env.dataDir,
    consoleDir: env.consoleDir,
    logger,
    maxBodyBytes: env.maxBodyBytes,
    maxRunInputBytes: env.maxRunInputBytes,
    graceMs: env.graceMs,
    development: env.development,
    openai: env.openai,
    limits: env.limits,
    sse: env.sse,
    databaseWriter: env.dbWriter,
    stalledAfterMs: env.stalledAfterMs,
    mcpServer: env.mcpServer,
    security: env.security,
    subscriptionCaps: env.subscriptionCaps,
    allowDevAuthOnNetwork: env.allowDevAuthOnNetwork,
    ...(env.mcp === undefined ? {} : { mcp: env.mcp }),
    aguiCancelAfterCloseMs: env.aguiCancelAfterCloseMs,
    approvalTimeoutMs: env.approvalTimeoutMs,
    tracing: env.tracing,
    canary: env.canary,
    healthThresholds: env.healthThresholds,
    starts: env.starts,
    cluster: env.cluster,
    auth:
      env.auth.mode === 'external'
        ? {
            mode: 'external',
            key: env.auth.key,
            ...(env.auth.issuer === undefined ? {} : { issuer: env.auth.issuer }),
            ...(env.auth.audience === undefined ? {} : { audience: env.auth.audience }),
          }
        : {
            mode: 'dev',
            // Generated once and kept (mode 0600) in the data folder, so tokens survive restarts.
            secret: env.auth.secret ?? loadOrCreateSecret(env.dataDir),
            tokenTtlSeconds: env.tokenTtlSeconds,
            adminLogin: env.auth.adminLogin,
          },
  });
  const signIn =
    env.auth.mode === 'dev'
      ? `sign in with any user id in the console, or in a terminal: pnpm toolrun login <userId>${server.url === 'http://127.0.0.1:3000' ? '' : ` --url ${server.url}`}`
      : 'sign in with a token from your identity provider: pnpm toolrun login --token <jwt>';
  // The first thing a person sees: where the console is and how to get in.
  if (readable) process.stdout.write(`Toolrun console: ${server.url}  (${signIn})\n`);
  logger.info(
    {
      url: server.url,
      trpc: `${server.url}/trpc`,
      // Never log a URL's password.
      database: env.databaseUrl === undefined ? env.dbPath : redactUrl(env.databaseUrl),
      authMode: env.auth.mode,
      ...(env.cluster === undefined ? {} : { role: env.cluster.role, redis: redactUrl(env.cluster.redisUrl) }),
      signIn,
    },
    `Toolrun listening on ${server.url}`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `toolrun: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

/** A database URL with its password (if any) replaced, for the logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
