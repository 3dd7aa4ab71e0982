import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, within } from './helpers.ts';

const SERVER_ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/client.ts', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const APPROVALS_EXAMPLE = fileURLToPath(new URL('../examples/approvals.ts', import.meta.url));
const ROOT_README = fileURLToPath(new URL('../../../README.md', import.meta.url));

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

/** Runs an example file as a reader would (`node --import tsx`) against the test server. */
async function runExample(file: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: SERVER_ROOT,
    env: { ...process.env, TOOLRUN_URL: server.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await within(
    new Promise<number | null>((resolve) => child.once('exit', resolve)),
    30_000,
    'the example',
  ).finally(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { code, output };
}

describe('the README client example', () => {
  it('is exactly examples/client.ts', () => {
    const readme = readFileSync(README, 'utf8');
    const block = /<!-- client-example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('works as pasted: signs in, starts a run and follows its five kinds of events to the end', async () => {
    const { code, output } = await runExample(EXAMPLE);
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
    const { code, output } = await runExample(APPROVALS_EXAMPLE);
    expect(output).toContain('approving transfer_funds {"amount":10,"currency":"EUR","to":"bob"}');
    expect(output).toContain('transfer_funds: success');
    expect(output).toContain('transfer_funds approved by alice');
    expect(code).toBe(0);
  });
});
