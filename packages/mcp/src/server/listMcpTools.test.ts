import type { Principal, ToolrunServices } from '@toolrun/api';
import { createToolrunServices } from '@toolrun/api';
import { defineAgent } from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callMcpTool } from './callMcpTool.ts';
import { findMcpTool, listMcpTools } from './listMcpTools.ts';

// Real services (SQLite in memory, the built-in tools and demo agents) plus one agent whose input
// is not an object, which MCP clients would refuse as a tool input as it is.
const shout = defineAgent({
  name: 'shout',
  description: 'Shouts its input',
  input: z.string().max(100),
  run: (text) => ({ text: text.toUpperCase() }),
});

let services: ToolrunServices | undefined;
afterEach(async () => {
  await services?.drain({ graceMs: 1_000 });
  services?.close();
  services = undefined;
});

async function setup(): Promise<ToolrunServices> {
  services = await createToolrunServices({
    database: ':memory:',
    auth: { mode: 'dev', secret: 'a-secret-for-the-mcp-listing-tests-0123' },
    extraAgents: [shout],
  });
  return services;
}

const alice: Principal = { userId: 'alice', roles: ['user'] };

describe('listMcpTools', () => {
  it('serves an input schema that is not an object as { input: <schema> }, and unwraps it on call', async () => {
    const s = await setup();
    const listed = listMcpTools(s, alice).find((t) => t.name === 'agent__shout');
    expect(listed?.inputSchema).toMatchObject({
      type: 'object',
      properties: { input: { type: 'string' } },
      required: ['input'],
    });
    const target = findMcpTool(s, alice, 'agent__shout');
    expect(target).toEqual({ kind: 'agent', name: 'shout', wrapped: true });
    if (target === undefined) return;
    const result = await callMcpTool({
      services: s,
      principal: alice,
      target,
      args: { input: 'hello' },
      signal: new AbortController().signal,
    });
    expect(result.structuredContent).toEqual({ text: 'HELLO' });
  });

  it('never lists or finds an admin tool for a user, and lists every input as an object schema', async () => {
    const s = await setup();
    const adminTool = s.factory.tools.list().find((t) => t.access === 'admin');
    expect(adminTool).toBeDefined();
    const user = listMcpTools(s, alice);
    expect(user.some((t) => t.name === adminTool?.name)).toBe(false);
    expect(findMcpTool(s, alice, adminTool?.name ?? '')).toBeUndefined();
    expect(findMcpTool(s, { userId: 'root', roles: ['admin'] }, adminTool?.name ?? '')).toMatchObject({ kind: 'tool' });
    expect(user.every((t) => t.inputSchema.type === 'object')).toBe(true);
  });
});
