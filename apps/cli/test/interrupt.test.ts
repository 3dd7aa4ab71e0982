import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exitCodes.ts';
import { cli, jsonLines, startCli } from './support/cli.ts';
import { login, startTestServer, tempConfig } from './support/server.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let config: ReturnType<typeof tempConfig>;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  config = tempConfig();
  env = { TOOLRUN_URL: server.url, XDG_CONFIG_HOME: config.dir, TOOLRUN_TOKEN: await login(server.url, 'alice') };
});
afterAll(async () => {
  await server?.stop();
  config?.remove();
});

describe('Ctrl-C without a terminal (--on-interrupt)', () => {
  it('detach: exit 130, the run goes on, and the printed follow command resumes exactly after the last event', async () => {
    const running = startCli(['run', 'slow', 'steps=12', 'delayMs=250', '--json', '--on-interrupt', 'detach'], env);
    await running.waitForLines(3);
    running.child.kill('SIGINT');
    const detached = await running.done;
    expect(detached.code).toBe(EXIT.detached);
    const before = jsonLines(detached.stdout) as RunEvent[];
    const last = before.at(-1);
    if (last === undefined) throw new Error('no events before the detach');
    expect(last.type).not.toBe('agent_completed');
    // The hint names the run and the last event received.
    expect(detached.stderr).toContain(`toolrun follow ${last.runId} --from ${last.id}`);

    const followed = await cli(['follow', last.runId, '--from', last.id, '--json'], env);
    const after = jsonLines(followed.stdout) as RunEvent[];
    const all = [...before, ...after];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    expect(followed.code).toBe(EXIT.ok);
  });

  it('cancel: the run is cancelled, its last events still arrive, exit 4', async () => {
    const running = startCli(['run', 'slow', 'steps=40', 'delayMs=250', '--on-interrupt', 'cancel'], env);
    await running.waitForLines(3);
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.stdout).toMatch(/^ {2}⊘ slow_task .* cancelled CANCELLED/m);
    expect(result.stdout).toMatch(/^⊘ cancelled in /m);
    expect(result.code).toBe(EXIT.cancelled);
  });

  it('the default without a terminal detaches (nothing to ask), and so does SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const running = startCli(['run', 'slow', 'steps=8', 'delayMs=250'], env);
      await running.waitForLines(3);
      running.child.kill(signal);
      const result = await running.done;
      expect(result.stderr).toMatch(/Detached: run run_\S+ goes on\./);
      expect(result.code).toBe(EXIT.detached);
    }
  });

  it('follow of a run that has ended exits with its status; --from its last event prints nothing more', async () => {
    const done = await cli(['run', 'calculator', '--json'], env);
    const events = jsonLines(done.stdout) as RunEvent[];
    const last = events.at(-1);
    if (last === undefined) throw new Error('no events');
    const [again, nothingLeft] = await Promise.all([
      cli(['follow', last.runId, '--json'], env),
      cli(['follow', last.runId, '--from', last.id, '--json'], env),
    ]);
    expect(jsonLines(again.stdout)).toEqual(events);
    expect(again.code).toBe(EXIT.ok);
    expect(nothingLeft.stdout).toBe('');
    expect(nothingLeft.stderr).toMatch(/had already ended: completed/);
    expect(nothingLeft.code).toBe(EXIT.ok);
  });
});

describe('toolrun feed', () => {
  it("prints the caller's runs live as JSON lines, never another user's, and exits 0 on Ctrl-C", async () => {
    const feed = startCli(['feed', '--json'], env);
    // The feed is live from its start: the runs start once it says it is following.
    await feed.waitForStderr(/following your runs/);
    const bob = { ...env, TOOLRUN_TOKEN: await login(server.url, 'bob') };
    const [mine] = await Promise.all([cli(['run', 'calculator', '--json'], env), cli(['run', 'calculator'], bob)]);
    const expected = jsonLines(mine.stdout) as RunEvent[];
    await feed.waitForLines(expected.length);
    feed.child.kill('SIGINT');
    const result = await feed.done;
    const seen = jsonLines(result.stdout) as RunEvent[];
    expect(seen.every((e) => e.userId === 'alice')).toBe(true);
    expect(seen.filter((e) => e.runId === expected[0]?.runId)).toEqual(expected);
    expect(result.code).toBe(EXIT.ok);
  });
});
