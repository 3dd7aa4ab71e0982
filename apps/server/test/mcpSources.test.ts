import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EnvError, REPO_ROOT, readEnv } from '../src/env.ts';
import type { StartServerOptions } from '../src/index.ts';
import { createClient, eventually, login, orderingProblems, startTestServer, tempDir } from './helpers.ts';

type Agent = NonNullable<StartServerOptions['extraAgents']>[number];

const notesInput = z.object({ note: z.string() }).strict();

/** A test agent that keeps a note with the MCP tools of the README's example configuration. */
const notesAgent: Agent = {
  name: 'mcp-notes',
  description: "Test agent: writes a note to the caller's files and reads it back, then remembers it.",
  input: notesInput,
  async run(input, ctx) {
    const { note } = notesInput.parse(input);
    ctx.think('writing the note');
    const written = await ctx.callTool('files__write_file', { path: 'note.txt', content: note });
    const read = await ctx.callTool('files__read_text_file', { path: 'note.txt' });
    const remembered = await ctx.callTool('memory__create_entities', {
      entities: [{ name: `note of ${ctx.context.userId}`, entityType: 'note', observations: [note] }],
    });
    return {
      written: written.status,
      read: read.status === 'success' ? read.output : read.error,
      remembered: remembered.status,
    };
  },
};

const EXAMPLE = join(REPO_ROOT, 'apps/server/examples/mcp.json');
const data = tempDir();
let server: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  // The README's example, as pasted: the npm servers run from node_modules/.bin.
  const env = readEnv({ TOOLRUN_MCP_CONFIG: EXAMPLE, TOOLRUN_DATA_DIR: data.dir });
  expect(env.mcp?.sources.map((s) => `${s.name}:${s.scope}`)).toEqual(['memory:shared', 'files:user']);
  server = await startTestServer({ ...(env.mcp ? { mcp: env.mcp } : {}), extraAgents: [notesAgent] });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  data.remove();
});

async function runOf(user: string, note: string) {
  const { client } = createClient(server.url, { transport: 'sse', token: await login(server.url, user) });
  const { runId } = await client.runs.start.mutate({ agent: 'mcp-notes', input: { note } });
  return eventually(async () => {
    const run = await client.runs.get.query({ runId });
    return run.run.status === 'running' ? undefined : run;
  });
}

describe('MCP tool sources in the server (the README example configuration)', { timeout: 60_000 }, () => {
  it("lists the sources' tools with their source, admin-only tools for admins only", async () => {
    const user = createClient(server.url, { transport: 'sse', token: await login(server.url, 'alice') }).client;
    const admin = createClient(server.url, {
      transport: 'sse',
      token: await login(server.url, 'root', 'admin'),
    }).client;
    const tools = await user.tools.list.query();
    expect(tools.find((t) => t.name === 'memory__create_entities')).toMatchObject({ source: 'memory', access: 'user' });
    expect(tools.find((t) => t.name === 'files__write_file')).toMatchObject({ source: 'files' });
    expect(tools.find((t) => t.name === 'calculator')?.source).toBeUndefined();
    expect(tools.map((t) => t.name)).not.toContain('files__move_file');
    expect((await admin.tools.list.query()).find((t) => t.name === 'files__move_file')).toMatchObject({
      access: 'admin',
    });
  });

  it("runs.start reaches the MCP tools, each user's files in their own process, with the five events stored", async () => {
    const [alice, bob] = await Promise.all([runOf('alice', 'alice secret note'), runOf('bob', 'bob note')]);
    for (const [run, note] of [
      [alice, 'alice secret note'],
      [bob, 'bob note'],
    ] as const) {
      expect(run.run.status).toBe('completed');
      const events = run.events as RunEvent[];
      expect(orderingProblems(events)).toEqual([]);
      expect(new Set(events.map((e) => e.type)).size).toBe(5);
      const completed = events.filter((e) => e.type === 'tool_completed');
      expect(completed.map((e) => `${e.tool}:${e.status}`)).toEqual([
        'files__write_file:success',
        'files__read_text_file:success',
        'memory__create_entities:success',
      ]);
      expect(JSON.stringify(completed[1])).toContain(note);
    }
    expect(JSON.stringify(bob.events)).not.toContain('alice secret note');

    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { toolSources: unknown };
    expect(health.toolSources).toEqual([
      expect.objectContaining({ name: 'memory', state: 'ready', scope: 'shared' }),
      expect.objectContaining({ name: 'files', state: 'ready', scope: 'user', processes: 2 }),
    ]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('toolrun_mcp_source_up{source="memory"} 1');
    expect(metrics).toContain('toolrun_mcp_source_processes{source="files"} 2');
  });

  it('refuses a broken TOOLRUN_MCP_CONFIG at start, listing every problem', () => {
    const file = join(data.dir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({ sources: { a: { url: 'http://x/mcp', headers: { Authorization: 'Bearer x' } }, b: {} } }),
    );
    const error = (() => {
      try {
        readEnv({ TOOLRUN_MCP_CONFIG: file, TOOLRUN_DATA_DIR: data.dir });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(EnvError);
    expect((error as Error).message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}TOOLRUN_MCP_CONFIG sources\.a\.headers\.Authorization: looks secret/),
      expect.stringMatching(/^ {2}TOOLRUN_MCP_CONFIG sources\.b: give either a `url`/),
    ]);
  });
});
