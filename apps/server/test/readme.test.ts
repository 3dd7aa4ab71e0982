/**
 * The docs test: the README client example is examples/client.ts and works as pasted, and every
 * command of every fenced shell block (```sh) in the READMEs (the root's and each workspace's)
 * works from the folder the README implies, or is marked as needing what CI lacks.
 *
 * Convention (see readmeCommands.ts and the root README's "Docs" section): an HTML comment on the
 * line before a block says how its lines are tested; no comment means "run it, exit 0":
 *   <!-- docs-test: run -->                 each line runs to its end and exits 0 (the default)
 *   <!-- docs-test: with-server -->         the same, with TOOLRUN_URL pointing at a test server
 *   <!-- docs-test: service /healthz -->    long-running: started, probed at that path, stopped
 *   <!-- docs-test: skip <reason> -->       not run, with what CI lacks
 * plus `cwd=<folder from the repo root>` when the README's own folder is not where to type it.
 * A new README command is therefore run by this test unless its block says otherwise.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExample, startTestServer, tempDir, within } from './helpers.ts';
import { findReadmes, type ReadmeCommand, readmeCommands } from './readmeCommands.ts';
import { freePort } from './reliability/support/childServer.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/client.ts', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const APPROVALS_EXAMPLE = fileURLToPath(new URL('../examples/approvals.ts', import.meta.url));
const ROOT_README = fileURLToPath(new URL('../../../README.md', import.meta.url));

let server: Awaited<ReturnType<typeof startTestServer>>;
let scratch: ReturnType<typeof tempDir>;
beforeAll(async () => {
  server = await startTestServer();
  scratch = tempDir();
});
afterAll(async () => {
  await server?.stop();
  scratch?.remove();
});

/** What every README command gets: its own data folder and CLI config, never the developer's. */
function commandEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TOOLRUN_DATA_DIR: join(scratch.dir, 'data'),
    XDG_CONFIG_HOME: join(scratch.dir, 'config'),
    TURBO_TELEMETRY_DISABLED: '1',
    ...extra,
  };
  for (const key of ['TOOLRUN_URL', 'TOOLRUN_TOKEN', 'INIT_CWD', 'npm_lifecycle_event']) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

/** Runs one shell command line in its own process group (so the whole group can be stopped). */
function shell(command: string, cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const stop = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group has already gone.
    }
  };
  return { output: () => output, exited, stop };
}

async function runToEnd(command: ReadmeCommand, env: NodeJS.ProcessEnv): Promise<void> {
  const run = shell(command.command, command.cwd, env);
  const code = await within(run.exited, 240_000, `${command.readme}:${command.line}`).finally(() =>
    run.stop('SIGKILL'),
  );
  expect(code, `${command.command} printed:\n${run.output()}`).toBe(0);
}

async function probeService(command: ReadmeCommand, path: string): Promise<void> {
  const port = await freePort();
  const run = shell(command.command, command.cwd, commandEnv({ PORT: String(port) }));
  try {
    const until = Date.now() + 240_000;
    let answered: number | undefined;
    while (answered === undefined) {
      if (Date.now() > until) throw new Error(`hang guard: ${command.command} never answered:\n${run.output()}`);
      // Without colour codes: run under turbo, tools print the port in bold (`127.0.0.1:\x1b[1m5173`).
      const plain = stripVTControlCharacters(run.output());
      const printed = /http:\/\/127\.0\.0\.1:(\d+)/.exec(plain)?.[1];
      for (const candidate of new Set([String(port), printed])) {
        if (candidate === undefined) continue;
        try {
          const res = await fetch(`http://127.0.0.1:${candidate}${path}`, { signal: AbortSignal.timeout(2_000) });
          if (res.status < 500) answered = res.status;
        } catch {
          // Not listening yet.
        }
      }
      if (answered === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
      const exited = await Promise.race([run.exited, Promise.resolve('running')]);
      if (exited !== 'running')
        throw new Error(`${command.command} exited (${exited}) before answering:\n${run.output()}`);
    }
  } finally {
    run.stop('SIGTERM');
    await within(run.exited, 30_000, `stopping ${command.command}`).catch(() => run.stop('SIGKILL'));
  }
}

const commands = findReadmes(REPO_ROOT).flatMap((file) => readmeCommands(REPO_ROOT, file));
const title = (c: ReadmeCommand) => `${c.readme}:${c.line} ${c.command}`;
// The same command from the same folder is run once (pnpm start appears in three READMEs).
const unique = <T extends ReadmeCommand>(list: T[]) =>
  list.filter((c, i) => list.findIndex((o) => o.command === c.command && o.cwd === c.cwd) === i);

describe('README commands', () => {
  it('every command is run by this test or marked with what CI lacks', () => {
    expect(commands.length).toBeGreaterThan(10);
    for (const c of commands) {
      if (c.how.kind === 'skip') expect(c.how.reason, title(c)).toMatch(/\w+/);
    }
  });

  for (const c of unique(commands.filter((c) => c.how.kind === 'run'))) {
    it(`runs: ${title(c)}`, () => runToEnd(c, commandEnv()), 300_000);
  }

  for (const c of unique(commands)) {
    if (c.how.kind !== 'service') continue;
    const { path } = c.how;
    it(`serves ${path}: ${title(c)}`, () => probeService(c, path), 300_000);
  }

  // In README order, so that a `login` line signs in the lines after it.
  const withServer = commands.filter((c) => c.how.kind === 'with-server');
  it.runIf(withServer.length > 0)(
    `with a server, in order: ${withServer.map((c) => c.command).join(' · ')}`,
    async () => {
      for (const c of withServer) await runToEnd(c, commandEnv({ TOOLRUN_URL: server.url }));
    },
    300_000,
  );
});

describe('the README client example', () => {
  it('is exactly examples/client.ts', () => {
    const readme = readFileSync(README, 'utf8');
    const block = /<!-- client-example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('works as pasted from the repository root: signs in, starts a run and follows its five kinds of events to the end', async () => {
    const run = shell(
      'node --import tsx apps/server/examples/client.ts',
      REPO_ROOT,
      commandEnv({ TOOLRUN_URL: server.url }),
    );
    const code = await within(run.exited, 30_000, 'the example').finally(() => run.stop('SIGKILL'));
    const output = run.output();
    expect(output).toMatch(/^1 agent_started$/m);
    for (const type of ['agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']) {
      expect(output).toContain(type);
    }
    expect(output).toMatch(/^completed /m);
    expect(code).toBe(0);
  });
});

describe('the root README approvals example', () => {
  it('is exactly examples/approvals.ts', () => {
    const block = /<!-- approvals-example -->\s*```ts\n([\s\S]*?)```/.exec(readFileSync(ROOT_README, 'utf8'))?.[1];
    expect(block).toBe(readFileSync(APPROVALS_EXAMPLE, 'utf8'));
  });

  it('works as pasted: starts payout, approves its transfer, and the run completes', async () => {
    const { code, output } = await runExample(APPROVALS_EXAMPLE, REPO_ROOT, server.url);
    expect(output).toContain('approving transfer_funds {"amount":10,"currency":"EUR","to":"bob"}');
    expect(output).toContain('transfer_funds: success');
    expect(output).toContain('transfer_funds approved by alice');
    expect(code).toBe(0);
  });
});
