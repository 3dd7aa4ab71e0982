import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExample, startTestServer } from './helpers.ts';

const SERVER_ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/client.ts', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('the README client example', () => {
  it('is exactly examples/client.ts', () => {
    const readme = readFileSync(README, 'utf8');
    const block = /<!-- client-example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('works as pasted: signs in, starts a run and follows its five kinds of events to the end', async () => {
    const { code, output } = await runExample(EXAMPLE, SERVER_ROOT, server.url);
    expect(output).toMatch(/^1 agent_started$/m);
    for (const type of ['agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']) {
      expect(output).toContain(type);
    }
    expect(output).toMatch(/^completed /m);
    expect(code).toBe(0);
  });
});
