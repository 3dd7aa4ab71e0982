import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/index.ts';
import { codeOf, createClient, TEST_SECRET, tempDir } from '../helpers.ts';
import { freePort, killAllChildServers, spawnServer } from './support/childServer.ts';

const data = tempDir();
afterAll(async () => {
  await killAllChildServers();
  data.remove();
});

const WARNING = /development identity provider is serving on a network interface/;

describe('the development identity provider off the loopback interface', () => {
  it('refuses to start on HOST=0.0.0.0 without the opt-in: exit code 2, a message that says what to do, nothing listening', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const failure = await spawnServer({ port, dataDir: data.dir, env: { HOST: '0.0.0.0' } }).then(
      () => 'started',
      (error: unknown) => String(error),
    );
    expect(failure).toMatch(/exited with 2/);
    expect(failure).toMatch(/HOST: refusing to serve the development identity provider on 0\.0\.0\.0/);
    expect(failure).toMatch(/TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK=true/);
    expect(failure).not.toMatch(/\n\s+at /);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('startServer refuses too (an embedding application), unless allowDevAuthOnNetwork; external auth may bind anywhere', async () => {
    const opts = { database: ':memory:', host: '0.0.0.0', auth: { mode: 'dev', secret: TEST_SECRET } } as const;
    await expect(startServer(opts)).rejects.toThrow(
      /refusing to serve the development identity provider on 0\.0\.0\.0/,
    );
    const allowed = await startServer({ ...opts, allowDevAuthOnNetwork: true });
    await allowed.close();
    const external = await startServer({ ...opts, auth: { mode: 'external', key: { secret: TEST_SECRET } } });
    await external.close();
  });

  it('starts with TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK=true and warns at every start; TOOLRUN_DEV_ADMIN_LOGIN=false refuses admin sign-in', {
    timeout: 90_000,
  }, async () => {
    const port = await freePort();
    const env = { HOST: '0.0.0.0', TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK: 'true', TOOLRUN_DEV_ADMIN_LOGIN: 'false' };
    for (let start = 1; start <= 2; start += 1) {
      const child = await spawnServer({ port, dataDir: data.dir, env });
      expect(child.output()).toMatch(WARNING);
      const { client } = createClient(child.url, { transport: 'sse' });
      if (start === 1) {
        const refused = client.auth.login.mutate({ userId: 'mallory', role: 'admin' });
        expect(await codeOf(refused)).toBe('FORBIDDEN');
        await expect(client.auth.login.mutate({ userId: 'mallory', role: 'admin' })).rejects.toThrow(
          /admin role is turned off on this server \(TOOLRUN_DEV_ADMIN_LOGIN=false\)/,
        );
        const { user } = await client.auth.login.mutate({ userId: 'alice' });
        expect(user.roles).toEqual(['user']);
      }
      expect((await child.stop('SIGTERM')).code).toBe(0);
    }
  });
});
