import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exitCodes.ts';
import { type CliResult, cli, jsonLines, startCli } from './support/cli.ts';
import { login, startTestServer, tempConfig } from './support/server.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let config: ReturnType<typeof tempConfig>;
let env: Record<string, string>;
let adminEnv: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  config = tempConfig();
  const base = { TOOLRUN_URL: server.url, XDG_CONFIG_HOME: config.dir };
  env = { ...base, TOOLRUN_TOKEN: await login(server.url, 'alice') };
  adminEnv = { ...base, TOOLRUN_TOKEN: await login(server.url, 'root-admin', 'admin') };
});
afterAll(async () => {
  await server?.stop();
  config?.remove();
});

/** The ordering rules, checked on what `--json` printed: seq 1..N once each, agent_completed last. */
function checkRun(events: RunEvent[]): RunEvent & { type: 'agent_completed' } {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events[0]?.type).toBe('agent_started');
  const last = events.at(-1);
  if (last?.type !== 'agent_completed') throw new Error(`last event is ${last?.type}`);
  return last;
}

// Each demo agent with a small input: long enough to show every kind of event, short enough for CI.
const DEMO_RUNS: [string, string[]][] = [
  ['calculator', ['{"question":"What is (2+3)*4?"}']],
  ['research', ['maxSources=2']],
  ['delegate', []],
  ['parallel', ['slowSteps=1']],
  ['flaky', ['calls=6']],
  ['slow', ['steps=2', 'delayMs=50']],
];

describe('toolrun run, each demo agent', () => {
  // Every demo run at once (text and --json), so the suite spends its time running, not starting.
  const outputs = new Map<string, CliResult>();
  beforeAll(async () => {
    await Promise.all(
      DEMO_RUNS.flatMap(([agent, input]) => [
        cli(['run', agent, ...input, '--json'], env).then((r) => outputs.set(`${agent} json`, r)),
        cli(['run', agent, ...input], env).then((r) => outputs.set(`${agent} text`, r)),
      ]),
    );
  }, 120_000);
  const output = (key: string): CliResult => {
    const result = outputs.get(key);
    if (result === undefined) throw new Error(`no output for ${key}`);
    return result;
  };

  it.each(DEMO_RUNS)('%s with --json: only events on stdout, one JSON object per line, in order; exit 0', (agent) => {
    const result = output(`${agent} json`);
    expect(result.stderr).toBe('');
    const events = jsonLines(result.stdout) as RunEvent[];
    expect(checkRun(events).status).toBe('completed');
    expect(events.every((e) => e.userId === 'alice' && e.runId === events[0]?.runId)).toBe(true);
    expect(result.code).toBe(EXIT.ok);
  });

  it.each(DEMO_RUNS)(
    '%s as text: a line per event ending with the result, no colours off a terminal; exit 0',
    (agent) => {
      const result = output(`${agent} text`);
      expect(result.stdout).toMatch(new RegExp(`^▶ ${agent} run run_`, 'm'));
      expect(result.stdout).toMatch(/^✔ completed in .* tool calls?$/m);
      expect(result.stdout).not.toContain('\u001b[');
      expect(result.code).toBe(EXIT.ok);
    },
  );

  it('calculator: the answer, and the tool call running then completed with its duration', () => {
    const { stdout } = output('calculator text');
    expect(stdout).toMatch(/^ {2}⋯ calculator \{"expression":"\(2\+3\)\*4"\} running$/m);
    expect(stdout).toMatch(/^ {2}✔ calculator \{"expression":"\(2\+3\)\*4"\} → .*"result":20.* \d+ ms$/m);
    expect(stdout).toMatch(/^\(2\+3\)\*4 = 20$/m);
  });

  it("delegate: the sub-agents' thinking and tool calls are indented under their agent: call", () => {
    const lines = output('delegate text').stdout.split('\n');
    const open = lines.findIndex((l) => /^ {2}⋯ agent:research /.test(l));
    const close = lines.findIndex((l) => /^ {2}✔ agent:research /.test(l));
    expect(open).toBeGreaterThan(0);
    expect(close).toBeGreaterThan(open);
    const inside = lines.slice(open + 1, close);
    expect(inside.some((l) => /^ {4}✔ search /.test(l))).toBe(true);
    expect(inside.every((l) => l.startsWith('    '))).toBe(true);
    expect(lines.some((l) => /^ {4}✔ calculator /.test(l))).toBe(true);
  });

  it('admin: an admin runs the admin agent; a user is refused (exit 6)', async () => {
    const [admin, refused] = await Promise.all([cli(['run', 'admin', '--json'], adminEnv), cli(['run', 'admin'], env)]);
    expect(admin.code).toBe(EXIT.ok);
    expect(refused.stderr).toMatch(/error/);
    expect(refused.code).toBe(EXIT.refused);
  });
});

describe('toolrun run, exit codes and errors', () => {
  it('a run that fails (past its deadline) exits 3 and says why', async () => {
    const strict = await startTestServer({ limits: { runDeadlineMs: 1_000 } });
    try {
      const token = await login(strict.url, 'alice');
      const result = await cli(['run', 'slow', 'steps=10', 'delayMs=400'], {
        ...env,
        TOOLRUN_URL: strict.url,
        TOOLRUN_TOKEN: token,
      });
      expect(result.stdout).toMatch(/^✖ failed in .*RUN_DEADLINE/m);
      expect(result.code).toBe(EXIT.failed);
    } finally {
      await strict.stop();
    }
  });

  it('a run cancelled from elsewhere (toolrun cancel) exits 4', async () => {
    const running = startCli(['run', 'slow', 'steps=40', 'delayMs=250', '--json'], env);
    const [first] = await running.waitForLines(1);
    const { runId } = JSON.parse(first ?? '{}') as { runId: string };
    const cancel = await cli(['cancel', runId, '--json'], env);
    expect(jsonLines(cancel.stdout)).toEqual([{ runId, cancelled: true }]);
    const result = await running.done;
    expect(checkRun(jsonLines(result.stdout) as RunEvent[]).status).toBe('cancelled');
    expect(result.code).toBe(EXIT.cancelled);
  });

  it('an unknown agent is refused: a readable error on stderr, nothing on stdout, exit 6', async () => {
    const result = await cli(['run', 'no-such-agent', '--json'], env);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringContaining('no-such-agent') },
      exitCode: EXIT.refused,
    });
    expect(result.code).toBe(EXIT.refused);
  });

  it('input the agent refuses names the field (exit 6); input that is not JSON is a usage error (exit 2)', async () => {
    const [invalid, notJson, unknownOption] = await Promise.all([
      cli(['run', 'calculator', 'question=5'], env),
      cli(['run', 'calculator', '{"question":'], env),
      cli(['run', 'calculator', '--nope'], env),
    ]);
    expect(invalid.stderr).toMatch(/question: .*expected string/);
    expect(invalid.stderr).not.toMatch(/ at .*\.ts:\d+/);
    expect(invalid.code).toBe(EXIT.refused);
    expect(notJson.stderr).toMatch(/the input is not valid JSON/);
    expect(notJson.code).toBe(EXIT.usage);
    expect(unknownOption.stderr).toMatch(/unknown option '--nope'/);
    expect(unknownOption.code).toBe(EXIT.usage);
  });

  it('without a token a development server signs you in as your OS user, and the token is saved (0600)', async () => {
    const { TOOLRUN_TOKEN: _, ...anonymous } = env;
    const own = tempConfig();
    try {
      const first = await cli(['run', 'calculator', '--json'], { ...anonymous, XDG_CONFIG_HOME: own.dir });
      const user = userInfo().username;
      expect(first.stderr).toContain(`signed in to ${server.url} as ${user}`);
      expect((jsonLines(first.stdout)[0] as RunEvent).userId).toBe(user);
      expect(first.code).toBe(EXIT.ok);
      const file = join(own.dir, 'toolrun', 'config.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const whoami = await cli(['whoami', '--json'], { ...anonymous, XDG_CONFIG_HOME: own.dir });
      expect(jsonLines(whoami.stdout)[0]).toMatchObject({ userId: user, url: server.url });
      expect(whoami.stderr).toBe('');
    } finally {
      own.remove();
    }
  });

  it('not signed in to a server without development sign-in (exit 7), a refused token (7) and no server (1) say what to do', async () => {
    const { TOOLRUN_TOKEN: _, ...anonymous } = env;
    const external = await startTestServer({
      auth: { mode: 'external', key: { secret: 'an-external-secret-of-32-characters!!' } },
    });
    const [unsigned, forged, nowhere] = await Promise.all([
      cli(['run', 'calculator'], { ...anonymous, TOOLRUN_URL: external.url }).finally(() => external.stop()),
      cli(['agents'], { ...env, TOOLRUN_TOKEN: 'not-a-token' }),
      cli(['agents'], { ...env, TOOLRUN_URL: 'http://127.0.0.1:9' }),
    ]);
    expect(unsigned.stderr).toMatch(/not signed in to .* login --token <jwt>/);
    expect(unsigned.code).toBe(EXIT.unauthenticated);
    expect(forged.code).toBe(EXIT.unauthenticated);
    expect(nowhere.stderr).toMatch(/cannot reach a Toolrun server at http:\/\/127\.0\.0\.1:9 .*pnpm start/);
    expect(nowhere.code).toBe(EXIT.error);
  });

  it('starts at most once with --idempotency-key: a retried command gets the same run back', async () => {
    const key = `cli-${Date.now()}`;
    const results = await Promise.all(
      [0, 1].map(() => cli(['run', 'calculator', '--detach', '--json', '--idempotency-key', key], env)),
    );
    const runIds = results.map((r) => (jsonLines(r.stdout)[0] as { runId: string }).runId);
    expect(runIds[0]).toBeDefined();
    expect(runIds[1]).toBe(runIds[0]);
    const changed = await cli(['run', 'slow', '--detach', '--idempotency-key', key], env);
    expect(changed.code).toBe(EXIT.refused);
    expect(changed.stderr).toContain('idempotency key');
  });

  it("another user's run is not found, to follow and to cancel (exit 6)", async () => {
    const started = await cli(['run', 'calculator', '--detach', '--json'], env);
    const { runId } = jsonLines(started.stdout)[0] as { runId: string };
    const bob = { ...env, TOOLRUN_TOKEN: await login(server.url, 'bob') };
    const [follow, cancel, own] = await Promise.all([
      cli(['follow', runId], bob),
      cli(['cancel', runId], bob),
      cli(['follow', runId, '--json'], env),
    ]);
    for (const result of [follow, cancel]) {
      expect(result.stderr).toContain(`no run "${runId}"`);
      expect(result.code).toBe(EXIT.refused);
    }
    expect(checkRun(jsonLines(own.stdout) as RunEvent[]).status).toBe('completed');
  });
});
