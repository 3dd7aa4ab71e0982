import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDispatcherFactory, createMemorySink, type ToolResult } from '@toolrun/dispatcher';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUserId, parseMcpConfig, startMcpToolSources } from '../src/index.ts';
import { waitFor } from './support/waitFor.ts';

const require = createRequire(import.meta.url);
// The real filesystem server from npm, one process per user, each confined to its user's folder.
const dataDir = mkdtempSync(join(tmpdir(), 'toolrun-mcp-user-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function setup(extra: Record<string, unknown> = {}) {
  const config = parseMcpConfig(
    JSON.stringify({
      sources: {
        files: {
          command: process.execPath,
          args: [require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js'), '.'],
          cwd: '{dataDir}/files/{userId}',
          scope: 'user',
          connectTimeoutMs: 60_000,
          ...extra,
        },
      },
    }),
    { env: {}, dataDir, baseDir: dataDir },
  );
  const sources = await startMcpToolSources(config);
  const factory = createDispatcherFactory({ tools: sources.tools(), sink: createMemorySink() });
  const call = async (userId: string, tool: string, input: unknown): Promise<ToolResult> => {
    await using scope = factory.forRequest(factory.createContext({ userId }));
    return await scope.execute(tool, input);
  };
  return { sources, factory, call };
}

const text = (result: ToolResult) => JSON.stringify(result.status === 'success' ? result.output : result.error);

describe("a stdio MCP server from npm in scope: 'user'", { timeout: 90_000 }, () => {
  it("gives each user a process of their own, which cannot read another user's data", async () => {
    const { sources, factory, call } = await setup();
    try {
      expect(factory.tools.list().map((t) => t.name)).toContain('files__read_text_file');
      // Listed by a discovery process, stopped since: no user has a process yet.
      expect(sources.health()[0]).toMatchObject({ state: 'ready', scope: 'user', processes: 0 });

      const [a, b] = await Promise.all([
        call('alice', 'files__write_file', { path: 'diary.txt', content: 'alice was here' }),
        call('bob', 'files__write_file', { path: 'diary.txt', content: 'bob was here' }),
      ]);
      expect([a.status, b.status]).toEqual(['success', 'success']);
      const owners = sources.userProcesses('files');
      expect(owners.map((o) => o.userId).sort()).toEqual(['alice', 'bob']);
      expect(new Set(owners.map((o) => o.pid)).size).toBe(2);

      expect(text(await call('alice', 'files__read_text_file', { path: 'diary.txt' }))).toContain('alice was here');
      expect(text(await call('bob', 'files__read_text_file', { path: 'diary.txt' }))).toContain('bob was here');
      // Bob aims at alice's folder: outside his process's only allowed directory.
      const sneak = await call('bob', 'files__read_text_file', { path: '../alice/diary.txt' });
      expect(sneak).toMatchObject({ status: 'error', error: { code: 'TOOL_FAILED' } });
      expect(text(sneak)).not.toContain('alice was here');
      // A user id that looks like a path is encoded: it gets a folder of its own, not alice's.
      const tricky = await call('../alice', 'files__read_text_file', { path: 'diary.txt' });
      expect(tricky.status).toBe('error');
      expect(readdirSync(join(dataDir, 'files')).sort()).toEqual(
        ['.discovery', encodeUserId('../alice'), 'alice', 'bob'].sort(),
      );
    } finally {
      await sources.close();
    }
  });

  it('keeps at most maxProcesses, stopping the least recently used idle one to make room', async () => {
    const { sources, call } = await setup({ maxProcesses: 2 });
    try {
      for (const user of ['carol', 'dave', 'erin']) {
        expect((await call(user, 'files__list_allowed_directories', {})).status).toBe('success');
        expect(sources.health()[0]?.processes).toBeLessThanOrEqual(2);
      }
      expect(
        sources
          .userProcesses('files')
          .map((o) => o.userId)
          .sort(),
      ).toEqual(['dave', 'erin']);
    } finally {
      await sources.close();
    }
  });

  it('stops a process that sat idle for idleTimeoutMs, and starts a new one on the next call', async () => {
    const { sources, call } = await setup({ idleTimeoutMs: 200 });
    try {
      expect((await call('frank', 'files__list_allowed_directories', {})).status).toBe('success');
      const first = sources.userProcesses('files')[0]?.pid;
      await waitFor('the idle process to stop', () => sources.health()[0]?.processes === 0);
      expect((await call('frank', 'files__list_allowed_directories', {})).status).toBe('success');
      expect(sources.userProcesses('files')[0]?.pid).not.toBe(first);
    } finally {
      await sources.close();
    }
  });

  it('keeps trying to list the tools of a per-user source that cannot start yet, and lists them once it can', async () => {
    const script = join(dataDir, 'late-server.sh');
    const config = parseMcpConfig(
      JSON.stringify({
        sources: { late: { command: script, args: ['.'], cwd: '{dataDir}/late/{userId}', scope: 'user' } },
      }),
      { env: {}, dataDir, baseDir: dataDir },
    );
    const sources = await startMcpToolSources(config);
    try {
      expect(sources.health()[0]).toMatchObject({ state: 'down', tools: 0 });
      const server = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
      writeFileSync(script, `#!/bin/sh\nexec "${process.execPath}" "${server}" "$@"\n`);
      chmodSync(script, 0o755);
      await waitFor('the tools to be listed', () => sources.health()[0]?.state === 'ready');
      expect(sources.tools().map((t) => t.name)).toContain('late__read_text_file');
    } finally {
      await sources.close();
    }
  });
});
