/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the configuration's own ${NAME} syntax */
import { describe, expect, it } from 'vitest';
import { parseMcpConfig } from './loadMcpConfig.ts';
import { McpConfigError } from './McpConfigError.ts';

const context = { env: { MEMO_TOKEN: 's3cret' }, dataDir: '/var/lib/toolrun', baseDir: '/etc/toolrun' };

function problemsOf(config: unknown): readonly string[] {
  try {
    parseMcpConfig(JSON.stringify(config), context);
  } catch (error) {
    if (error instanceof McpConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the MCP configuration file', () => {
  it('resolves env references, {dataDir} and relative cwd, and fills the defaults', () => {
    const config = parseMcpConfig(
      JSON.stringify({
        sources: {
          memo: { url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer ${MEMO_TOKEN}', 'X-Team': 'blue' } },
          files: { command: 'mcp-server-filesystem', args: ['.'], cwd: '{dataDir}/files/{userId}', scope: 'user' },
          notes: { command: 'notes', cwd: 'notes', tools: { wipe: { access: 'admin', timeoutMs: 5 } } },
        },
      }),
      context,
    );
    expect(config.sources).toMatchObject([
      {
        name: 'memo',
        transport: 'http',
        scope: 'shared',
        headers: { Authorization: 'Bearer s3cret', 'X-Team': 'blue' },
      },
      { name: 'files', transport: 'stdio', scope: 'user', cwd: '/var/lib/toolrun/files/{userId}', maxProcesses: 32 },
      {
        name: 'notes',
        cwd: '/etc/toolrun/notes',
        access: 'user',
        timeoutMs: 30_000,
        tools: { wipe: { access: 'admin' } },
      },
    ]);
  });

  it('lists every problem at once, and refuses secrets written in the file', () => {
    expect(
      problemsOf({
        sources: {
          'bad name': { command: 'x' },
          a__b: { command: 'x' },
          both: { url: 'http://x/mcp', command: 'y' },
          neither: {},
          leak: { url: 'http://x/mcp', headers: { Authorization: 'Bearer sk-live-123' } },
          missing: { url: 'http://x/mcp', headers: { 'X-Api-Key': '${UNSET_VAR}' } },
          typo: { command: 'x', argz: [] },
          remote: { url: 'http://x/mcp', scope: 'user' },
          shared: { command: 'x', args: ['{userId}'] },
          envleak: { command: 'x', env: { GITHUB_TOKEN: 'ghp_literal' } },
        },
      }),
    ).toEqual([
      'sources.bad name: a source name has at most 32 characters: a letter, then letters, digits, - or single _ (not at the end)',
      'sources.a__b: a source name has at most 32 characters: a letter, then letters, digits, - or single _ (not at the end)',
      'sources.both: give either a `url` (Streamable HTTP) or a `command` (stdio)',
      'sources.neither: give either a `url` (Streamable HTTP) or a `command` (stdio)',
      'sources.leak.headers.Authorization: looks secret; write a reference to the environment instead, such as "Bearer ${MY_TOKEN}"',
      'sources.missing.headers.X-Api-Key: environment variable UNSET_VAR is not set',
      'sources.typo: Unrecognized key: "argz"',
      'sources.remote.scope: "user" needs a stdio source (one process per user)',
      'sources.shared: {userId} is substituted only in a scope: "user" source',
      'sources.envleak.env.GITHUB_TOKEN: looks secret; write a reference to the environment instead, such as "Bearer ${MY_TOKEN}"',
    ]);
    expect(() => parseMcpConfig('{ not json', context)).toThrow(/is not JSON/);
  });
});
