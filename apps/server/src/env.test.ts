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
      auth: { mode: 'dev', secret: undefined },
      openai: undefined,
      sse: 'lean',
      dbWriter: 'thread',
      stalledAfterMs: 30_000,
    });
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

  it('reads the stall bound for stuck readers and refuses one too short to be meant', () => {
    expect(readEnv({ TOOLRUN_STALLED_AFTER_MS: '5000' }).stalledAfterMs).toBe(5_000);
    expect(() => readEnv({ TOOLRUN_STALLED_AFTER_MS: '10' })).toThrow(/TOOLRUN_STALLED_AFTER_MS/);
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
    expect(env.auth).toEqual({ mode: 'dev', secret: undefined });
    expect(env.limits).toEqual({ maxConcurrentRunsPerUser: 3 });
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
