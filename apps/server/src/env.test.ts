import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSOLE_DIR, EnvError, REPO_ROOT, readEnv } from './env.ts';

describe('readEnv', () => {
  it('runs as is: every setting has a default, paths under the repository', () => {
    const env = readEnv({});
    expect(env).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      development: false,
      dataDir: resolve(REPO_ROOT, 'data'),
      dbPath: resolve(REPO_ROOT, 'data', 'toolrun.db'),
      consoleDir: DEFAULT_CONSOLE_DIR,
      logLevel: 'info',
      graceMs: 10_000,
      maxBodyBytes: 1_048_576,
      maxRunInputBytes: 65_536,
      tokenTtlSeconds: 43_200,
      limits: {},
      auth: { mode: 'dev', secret: undefined, adminLogin: true },
      openai: undefined,
      sse: 'lean',
      dbWriter: 'thread',
      stalledAfterMs: 30_000,
      security: {
        allowedHosts: [],
        allowedOrigins: [],
        maxWsConnectionsPerUser: 100,
        maxConnections: 10_000,
        headersTimeoutMs: 20_000,
        requestTimeoutMs: 60_000,
        keepAliveTimeoutMs: 5_000,
      },
      subscriptionCaps: { perUser: 200, perConnection: 100, ssePerUser: 100 },
      allowDevAuthOnNetwork: false,
      aguiCancelAfterCloseMs: 5_000,
      tracing: undefined,
      canary: { intervalMs: 60_000, token: undefined },
      healthThresholds: { maxScopeCreateMs: 50, maxLegacyShare: 0.5 },
    });
  });

  it('refuses the development identity provider on a non-loopback HOST unless TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK=true', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'toolrun.example.com']) {
      expect(() => readEnv({ HOST: host })).toThrow(/HOST: refusing to serve the development identity provider/);
    }
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])
      expect(readEnv({ HOST: host }).host).toBe(host);
    expect(readEnv({ HOST: '0.0.0.0', TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK: 'true' }).allowDevAuthOnNetwork).toBe(true);
    // External tokens may be verified anywhere.
    expect(readEnv({ HOST: '0.0.0.0', TOOLRUN_AUTH_MODE: 'external', TOOLRUN_JWT_SECRET: 'x'.repeat(32) }).host).toBe(
      '0.0.0.0',
    );
    expect(() => readEnv({ TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK: 'yes please' })).toThrow(
      /TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK/,
    );
  });

  it('turns admin sign-in off with TOOLRUN_DEV_ADMIN_LOGIN=false', () => {
    expect(readEnv({ TOOLRUN_DEV_ADMIN_LOGIN: 'false' }).auth).toEqual({
      mode: 'dev',
      secret: undefined,
      adminLogin: false,
    });
    expect(readEnv({ TOOLRUN_DEV_ADMIN_LOGIN: '1' }).auth).toMatchObject({ adminLogin: true });
  });

  it('reads allowed hosts and origins as comma-separated lists, and refuses an origin that is not one', () => {
    const env = readEnv({
      TOOLRUN_ALLOWED_HOSTS: ' toolrun.example.com, intranet:8443 ,',
      TOOLRUN_ALLOWED_ORIGINS: 'https://console.example.com,http://127.0.0.1:5173/',
    });
    expect(env.security.allowedHosts).toEqual(['toolrun.example.com', 'intranet:8443']);
    expect(env.security.allowedOrigins).toEqual(['https://console.example.com', 'http://127.0.0.1:5173']);
    expect(() => readEnv({ TOOLRUN_ALLOWED_ORIGINS: 'console.example.com' })).toThrow(/TOOLRUN_ALLOWED_ORIGINS/);
    expect(() => readEnv({ TOOLRUN_ALLOWED_ORIGINS: 'https://console.example.com/app' })).toThrow(
      /TOOLRUN_ALLOWED_ORIGINS/,
    );
  });

  it('reads the caps and timeouts, bounded, and refuses a headers timeout longer than the request timeout', () => {
    const env = readEnv({
      TOOLRUN_MAX_SUBSCRIPTIONS_PER_USER: '50',
      TOOLRUN_MAX_SUBSCRIPTIONS_PER_CONNECTION: '20',
      TOOLRUN_MAX_SSE_STREAMS_PER_USER: '10',
      TOOLRUN_MAX_WS_CONNECTIONS_PER_USER: '5',
      TOOLRUN_MAX_CONNECTIONS: '500',
      TOOLRUN_HEADERS_TIMEOUT_MS: '5000',
      TOOLRUN_REQUEST_TIMEOUT_MS: '30000',
      TOOLRUN_KEEP_ALIVE_TIMEOUT_MS: '1000',
    });
    expect(env.subscriptionCaps).toEqual({ perUser: 50, perConnection: 20, ssePerUser: 10 });
    expect(env.security).toMatchObject({
      maxWsConnectionsPerUser: 5,
      maxConnections: 500,
      headersTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 1_000,
    });
    expect(() => readEnv({ TOOLRUN_MAX_SUBSCRIPTIONS_PER_USER: '0' })).toThrow(/TOOLRUN_MAX_SUBSCRIPTIONS_PER_USER/);
    expect(() => readEnv({ TOOLRUN_HEADERS_TIMEOUT_MS: '90000' })).toThrow(
      /TOOLRUN_HEADERS_TIMEOUT_MS: must not be longer than TOOLRUN_REQUEST_TIMEOUT_MS/,
    );
  });

  it('reads the canary interval (0 turns it off) and the health thresholds, refusing out-of-range values by name', () => {
    expect(readEnv({ TOOLRUN_CANARY_INTERVAL_MS: '0' }).canary.intervalMs).toBe(0);
    expect(readEnv({ TOOLRUN_CANARY_INTERVAL_MS: '5000', TOOLRUN_CANARY_TOKEN: 'eyJ.x.y' }).canary).toEqual({
      intervalMs: 5_000,
      token: 'eyJ.x.y',
    });
    expect(() => readEnv({ TOOLRUN_CANARY_INTERVAL_MS: '10' })).toThrow(/TOOLRUN_CANARY_INTERVAL_MS/);
    expect(() => readEnv({ TOOLRUN_HEALTH_MAX_LEGACY_SHARE: '2' })).toThrow(/TOOLRUN_HEALTH_MAX_LEGACY_SHARE/);
    expect(readEnv({ TOOLRUN_HEALTH_MAX_SCOPE_CREATE_MS: '5' }).healthThresholds.maxScopeCreateMs).toBe(5);
  });

  it('turns traces on with an OTLP endpoint, OTLP/HTTP protobuf by default, and refuses gRPC and bad URLs by name', () => {
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }).tracing).toEqual({
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'toolrun',
      recordContent: false,
    });
    expect(
      readEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'toolrun-eu',
        TOOLRUN_TRACE_CONTENT: 'true',
      }).tracing,
    ).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/json',
      serviceName: 'toolrun-eu',
      recordContent: true,
    });
    expect(
      readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_SDK_DISABLED: 'true' }).tracing,
    ).toBeUndefined();
    expect(() =>
      readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('chooses the SSE writer from TOOLRUN_SSE and refuses any other value by name', () => {
    expect(readEnv({ TOOLRUN_SSE: 'trpc' }).sse).toBe('trpc');
    expect(readEnv({ TOOLRUN_SSE: 'lean' }).sse).toBe('lean');
    expect(() => readEnv({ TOOLRUN_SSE: 'stock' })).toThrow(/TOOLRUN_SSE/);
  });

  it('chooses where the database commits from TOOLRUN_DB_WRITER and refuses any other value by name', () => {
    expect(readEnv({ TOOLRUN_DB_WRITER: 'inline' }).dbWriter).toBe('inline');
    expect(() => readEnv({ TOOLRUN_DB_WRITER: 'worker' })).toThrow(/TOOLRUN_DB_WRITER/);
  });

  it('selects PostgreSQL from TOOLRUN_DATABASE_URL (SQLite when unset) and refuses a URL of another scheme by name', () => {
    expect(readEnv({}).databaseUrl).toBeUndefined();
    expect(readEnv({ TOOLRUN_DATABASE_URL: '  ' }).databaseUrl).toBeUndefined();
    const url = 'postgres://toolrun:secret@db.internal:5432/toolrun';
    expect(readEnv({ TOOLRUN_DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(readEnv({ TOOLRUN_DATABASE_URL: 'postgresql://h/db' }).databaseUrl).toBe('postgresql://h/db');
    expect(() => readEnv({ TOOLRUN_DATABASE_URL: 'mysql://h/db' })).toThrow(/TOOLRUN_DATABASE_URL/);
    expect(() => readEnv({ TOOLRUN_DATABASE_URL: './toolrun.db' })).toThrow(/TOOLRUN_DATABASE_URL/);
  });

  it('is in cluster mode with PostgreSQL and Redis, role all by default, and refuses a role or Redis without them by name', () => {
    expect(readEnv({}).cluster).toBeUndefined();
    const pg = 'postgres://toolrun@db.internal:5432/toolrun';
    const redis = 'redis://cache.internal:6379';
    expect(readEnv({ TOOLRUN_DATABASE_URL: pg, TOOLRUN_REDIS_URL: redis }).cluster).toEqual({
      role: 'all',
      redisUrl: redis,
      workerConcurrency: 64,
      runLeaseMs: 15_000,
    });
    expect(readEnv({ TOOLRUN_DATABASE_URL: pg, TOOLRUN_REDIS_URL: redis, TOOLRUN_ROLE: 'worker' }).cluster?.role).toBe(
      'worker',
    );
    expect(() => readEnv({ TOOLRUN_ROLE: 'api' })).toThrow(/TOOLRUN_ROLE: role 'api' is for cluster mode/);
    expect(() => readEnv({ TOOLRUN_ROLE: 'worker', TOOLRUN_DATABASE_URL: pg })).toThrow(/TOOLRUN_ROLE/);
    expect(() => readEnv({ TOOLRUN_REDIS_URL: redis })).toThrow(
      /TOOLRUN_REDIS_URL: cluster mode needs TOOLRUN_DATABASE_URL/,
    );
    expect(() => readEnv({ TOOLRUN_DATABASE_URL: pg, TOOLRUN_REDIS_URL: 'http://x' })).toThrow(/TOOLRUN_REDIS_URL/);
    expect(() => readEnv({ TOOLRUN_ROLE: 'boss' })).toThrow(/TOOLRUN_ROLE/);
  });

  it('chooses the log format from TOOLRUN_LOG_FORMAT (auto by default) and refuses any other value by name', () => {
    expect(readEnv({}).logFormat).toBe('auto');
    expect(readEnv({ TOOLRUN_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(readEnv({ TOOLRUN_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => readEnv({ TOOLRUN_LOG_FORMAT: 'text' })).toThrow(/TOOLRUN_LOG_FORMAT/);
  });

  it('reads the stall bound for stuck readers and refuses one too short to be meant', () => {
    expect(readEnv({ TOOLRUN_STALLED_AFTER_MS: '5000' }).stalledAfterMs).toBe(5_000);
    expect(readEnv({}).starts).toEqual({
      maxQueuedRunsPerUser: 16,
      maxQueueWaitMs: 300_000,
      idempotencyTtlMs: 86_400_000,
    });
    expect(readEnv({ TOOLRUN_QUEUE_MAX_PER_USER: '0', TOOLRUN_QUEUE_MAX_WAIT_MS: '60000' }).starts).toMatchObject({
      maxQueuedRunsPerUser: 0,
      maxQueueWaitMs: 60_000,
    });
    // Keys are kept at least a day: a shorter time would let a late retry start a second run.
    expect(() => readEnv({ TOOLRUN_IDEMPOTENCY_TTL_MS: '1000' })).toThrow(/TOOLRUN_IDEMPOTENCY_TTL_MS/);
    expect(() => readEnv({ TOOLRUN_STALLED_AFTER_MS: '10' })).toThrow(/TOOLRUN_STALLED_AFTER_MS/);
  });

  it('reads the MCP session bounds, with defaults, and refuses a session limit of zero', () => {
    expect(readEnv({}).mcpServer).toEqual({ maxSessionsPerUser: 8, sessionIdleMs: 600_000 });
    expect(readEnv({ TOOLRUN_MCP_MAX_SESSIONS_PER_USER: '2', TOOLRUN_MCP_SESSION_IDLE_MS: '5000' }).mcpServer).toEqual({
      maxSessionsPerUser: 2,
      sessionIdleMs: 5_000,
    });
    expect(() => readEnv({ TOOLRUN_MCP_MAX_SESSIONS_PER_USER: '0' })).toThrow(/TOOLRUN_MCP_MAX_SESSIONS_PER_USER/);
  });

  it('reads how long an AG-UI run waits for a reattach after its connection closed, 0 for at once', () => {
    expect(readEnv({ TOOLRUN_AGUI_CANCEL_AFTER_CLOSE_MS: '0' }).aguiCancelAfterCloseMs).toBe(0);
    expect(() => readEnv({ TOOLRUN_AGUI_CANCEL_AFTER_CLOSE_MS: '-1' })).toThrow(/TOOLRUN_AGUI_CANCEL_AFTER_CLOSE_MS/);
  });

  it('resolves relative paths against the folder the command was typed in (INIT_CWD), the database inside the data folder', () => {
    const env = readEnv({ INIT_CWD: '/srv/app', TOOLRUN_DATA_DIR: './state' });
    expect(env.dataDir).toBe('/srv/app/state');
    expect(env.dbPath).toBe(join('/srv/app/state', 'toolrun.db'));
    expect(readEnv({ INIT_CWD: '/srv/app', TOOLRUN_DB_PATH: 'x.db' }).dbPath).toBe('/srv/app/x.db');
    expect(readEnv({ TOOLRUN_DB_PATH: ':memory:' }).dbPath).toBe(':memory:');
  });

  it('treats empty values as unset and coerces numbers', () => {
    const env = readEnv({ PORT: '0', TOOLRUN_SECRET: '  ', TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER: '3' });
    expect(env.port).toBe(0);
    expect(env.auth).toEqual({ mode: 'dev', secret: undefined, adminLogin: true });
    expect(env.limits).toEqual({ maxConcurrentRunsPerUser: 3 });
  });

  it('sets the users’ rate limit (capacity, refill per second) from TOOLRUN_RATE_LIMIT_*, and refuses nonsense', () => {
    expect(readEnv({ TOOLRUN_RATE_LIMIT_CAPACITY: '20', TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND: '0.5' }).limits).toEqual({
      rateLimit: { user: { capacity: 20, refillPerSecond: 0.5 } },
    });
    expect(readEnv({ TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND: '7' }).limits).toEqual({
      rateLimit: { user: { refillPerSecond: 7 } },
    });
    expect(() => readEnv({ TOOLRUN_RATE_LIMIT_CAPACITY: '0' })).toThrow(/TOOLRUN_RATE_LIMIT_CAPACITY/);
    expect(() => readEnv({ TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND: 'fast' })).toThrow(
      /TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND/,
    );
  });

  it('lists every problem at once, by variable', () => {
    let error: unknown;
    try {
      readEnv({ PORT: 'eighty', TOOLRUN_SECRET: 'short', TOOLRUN_LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const message = String((error as EnvError).message);
    for (const name of ['PORT', 'TOOLRUN_SECRET', 'TOOLRUN_LOG_LEVEL']) expect(message).toContain(name);
  });

  it('needs a key in external auth mode, and takes a PEM whose newlines were escaped', () => {
    expect(() => readEnv({ TOOLRUN_AUTH_MODE: 'external' })).toThrow(/TOOLRUN_JWT_SECRET/);
    const env = readEnv({
      TOOLRUN_AUTH_MODE: 'external',
      TOOLRUN_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----',
      TOOLRUN_JWT_ISSUER: 'https://idp',
    });
    expect(env.auth).toEqual({
      mode: 'external',
      key: { publicKeyPem: '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----' },
      issuer: 'https://idp',
      audience: undefined,
    });
  });

  it('enables the OpenAI agent only with all three of its variables', () => {
    expect(() => readEnv({ TOOLRUN_OPENAI_MODEL: 'gpt' })).toThrow(/TOOLRUN_OPENAI_BASE_URL/);
    const env = readEnv({
      TOOLRUN_OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      TOOLRUN_OPENAI_API_KEY: 'k',
      TOOLRUN_OPENAI_MODEL: 'm',
    });
    expect(env.openai).toEqual({ baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'k', model: 'm' });
  });
});
