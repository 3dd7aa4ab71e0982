import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExample, startTestServer } from '../helpers.ts';

const SERVER_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/aguiClient.ts', import.meta.url));
const READMES = ['../../../../README.md', '../../../../packages/agui/README.md'].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('the README AG-UI client', () => {
  it('is exactly examples/aguiClient.ts, in the root README and in packages/agui/README.md', () => {
    for (const readme of READMES) {
      const block = /<!-- agui-example -->\s*```ts\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
      expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
    }
  });

  it('works as pasted: signs in, runs the calculator agent over AG-UI and prints its events and answer', async () => {
    const { code, output } = await runExample(EXAMPLE, SERVER_ROOT, server.url);
    expect(output).toMatch(/^RUN_STARTED$/m);
    for (const type of ['REASONING_MESSAGE_CONTENT', 'TOOL_CALL_START', 'TOOL_CALL_RESULT', 'RUN_FINISHED']) {
      expect(output).toContain(type);
    }
    expect(output).toMatch(/^\(2\+3\)\*4 = 20; sqrt\(16\) = 4$/m);
    expect(output).not.toMatch(/warn|error/i);
    expect(code).toBe(0);
  });
});
