import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExample, startTestServer } from '../helpers.ts';

const SERVER_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/mcpClient.ts', import.meta.url));
const ROOT_README = fileURLToPath(new URL('../../../../README.md', import.meta.url));

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe("the root README's MCP client example", () => {
  it('is exactly examples/mcpClient.ts', () => {
    const readme = readFileSync(ROOT_README, 'utf8');
    const block = /<!-- mcp-client-example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it("works as pasted: lists alice's tools, calls a tool and an agent with progress", async () => {
    const { code, output } = await runExample(EXAMPLE, SERVER_ROOT, server.url, 60_000);
    expect(code, output).toBe(0);
    expect(output).toContain('calculator');
    expect(output).toContain('agent__research');
    expect(output).toContain('"result":20');
    expect(output).toMatch(/step 1: /);
    expect(output).toContain('the agent answered');
  });
});
