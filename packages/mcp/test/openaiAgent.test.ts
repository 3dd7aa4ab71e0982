import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIAgent } from '@toolrun/agents';
import { createDispatcherFactory, createMemorySink, findOrderingViolations } from '@toolrun/dispatcher';
import { afterAll, describe, expect, it } from 'vitest';
import {
  chunk,
  startChatCompletionsServer,
  streams,
  textChunks,
} from '../../agents/test/support/chatCompletionsServer.ts';
import { parseMcpConfig, startMcpToolSources } from '../src/index.ts';

const require = createRequire(import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'toolrun-mcp-openai-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the openai agent calling an MCP tool', { timeout: 90_000 }, () => {
  it("offers the MCP server's tools to the model and runs the one it picks, with the five events", async () => {
    // The real memory server from npm, shared by every user.
    const config = parseMcpConfig(
      JSON.stringify({
        sources: {
          memory: {
            command: process.execPath,
            args: [require.resolve('@modelcontextprotocol/server-memory/dist/index.js')],
            env: { MEMORY_FILE_PATH: '{dataDir}/memory.jsonl' },
            connectTimeoutMs: 60_000,
          },
        },
      }),
      { env: {}, dataDir, baseDir: dataDir },
    );
    const sources = await startMcpToolSources(config);
    const model = await startChatCompletionsServer([
      streams([
        chunk({
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: {
                name: 'memory__create_entities',
                arguments: JSON.stringify({
                  entities: [{ name: 'Toolrun', entityType: 'product', observations: ['speaks MCP'] }],
                }),
              },
            },
          ],
        }),
        chunk({}, 'tool_calls'),
      ]),
      streams(textChunks('Remembered.')),
    ]);
    try {
      const agent = createOpenAIAgent({
        baseURL: model.baseURL,
        apiKey: 'sk-test',
        model: 'test-model',
        tools: sources.tools().map((tool) => ({
          name: tool.name,
          description: tool.description,
          inputSchema: tool.inputSchema ?? {},
          access: tool.access,
        })),
      });
      const sink = createMemorySink();
      const factory = createDispatcherFactory({ tools: sources.tools(), agents: [agent], sink });
      const handle = factory.startRun({
        context: factory.createContext({ userId: 'alice' }),
        agent: 'openai',
        input: { prompt: 'Remember that Toolrun speaks MCP.' },
      });
      expect(await handle.done).toMatchObject({ status: 'completed', result: { answer: 'Remembered.' } });

      const offered = model.requests[0]?.body.tools?.map((t) => t.function.name) ?? [];
      expect(offered).toContain('memory__create_entities');
      const events = sink.events(handle.runId);
      expect(findOrderingViolations(events)).toEqual([]);
      expect(new Set(events.map((e) => e.type))).toEqual(
        new Set(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']),
      );
      expect(events.find((e) => e.type === 'tool_completed')).toMatchObject({
        tool: 'memory__create_entities',
        status: 'success',
      });
      // It reached the real server: the entity is in its graph.
      await using scope = factory.forRequest(factory.createContext({ userId: 'bob' }));
      const graph = await scope.execute('memory__read_graph', {});
      expect(JSON.stringify(graph)).toContain('speaks MCP');
    } finally {
      await model.close();
      await sources.close();
    }
  });
});
