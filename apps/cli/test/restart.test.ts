import { join } from 'node:path';
import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exitCodes.ts';
import { jsonLines, startCli } from './support/cli.ts';
import { freePort, login, spawnServer, tempConfig } from './support/server.ts';

let config: ReturnType<typeof tempConfig>;
beforeAll(() => {
  config = tempConfig();
});
afterAll(() => {
  config?.remove();
});

describe('a server restarted mid-run', () => {
  it('the CLI reconnects, resumes after its last event and finishes with the run (interrupted: exit 5), no event twice or missing', async () => {
    const port = await freePort();
    const dataDir = join(config.dir, 'server');
    let server = await spawnServer({ port, dataDir });
    try {
      const env = {
        TOOLRUN_URL: server.url,
        XDG_CONFIG_HOME: config.dir,
        TOOLRUN_TOKEN: await login(server.url, 'alice'),
      };
      const running = startCli(['run', 'slow', 'steps=40', 'delayMs=250', '--json'], env);
      await running.waitForLines(3);
      // A crash: the run's connection drops, and the next start closes the run as interrupted.
      await server.stop('SIGKILL');
      await running.waitForStderr(/connection lost .*resuming/);
      server = await spawnServer({ port, dataDir });
      const result = await running.done;
      const events = jsonLines(result.stdout) as RunEvent[];
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'interrupted' });
      expect(result.code).toBe(EXIT.interrupted);
    } finally {
      await server.stop('SIGTERM');
    }
    // Two server starts and a CLI: a hang guard for a busy 2-core machine, not a speed target.
  }, 180_000);
});
