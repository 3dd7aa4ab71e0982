import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AnyTool } from '@toolrun/dispatcher';
import { type CallMcpTool, toToolDefinitions } from './adapter/toToolDefinitions.ts';
import type { McpConfig, SourceConfig, StdioSourceConfig } from './config/loadMcpConfig.ts';
import { McpConfigError } from './config/McpConfigError.ts';
import { backoffMs } from './connection/backoff.ts';
import { openSession } from './connection/openSession.ts';
import { SharedSource, type SourceEvents } from './connection/SharedSource.ts';
import { DISCOVERY_USER } from './pool/substituteUserId.ts';
import { UserProcessPool, userTarget } from './pool/UserProcessPool.ts';
import type { SourceHealth } from './sourceHealth.ts';

/** The structured logger sources write to (a subset of pino's). */
export interface SourcesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The MCP servers of a configuration, connected, as tools for the registry. */
export interface McpToolSources {
  /** Every source's tools now, in configuration order. */
  tools(): AnyTool[];
  /**
   * Calls `onChange` after a source's tools changed (connected after being down at start,
   * `notifications/tools/list_changed`); returns the unsubscribe function.
   */
  subscribe(onChange: () => void): () => void;
  health(): SourceHealth[];
  /** Which process serves which user, for a `scope: 'user'` source (diagnostics and tests). */
  userProcesses(source: string): { userId: string; pid: number | undefined }[];
  /** Stops every process and session. */
  close(): Promise<void>;
}

type Accept = (listed: readonly Tool[], call: CallMcpTool) => void;

/** One configured source as the manager holds it. */
interface Slot {
  readonly config: SourceConfig;
  tools: AnyTool[];
  /** Why its last listing was refused. */
  refused: string | undefined;
  start(accept: Accept): Promise<void>;
  health(): Pick<SourceHealth, 'state' | 'connects' | 'processes' | 'lastError'>;
  owners(): { userId: string; pid: number | undefined }[];
  close(): Promise<void>;
}

/**
 * Connects every source of `config` (a shared source: one session; a per-user source: its tools
 * listed by a discovery process, then one process per user on demand) and turns their tools into
 * registry tools. Throws {@link McpConfigError} listing every problem of the sources reachable at
 * start (names too long or colliding, unusable schemas, configured tools the server lacks). A source
 * that cannot be reached does not stop the start: it keeps reconnecting and its tools join when it
 * lists them. A later listing with such problems is refused, the source keeping its tools.
 *
 * @example
 * const sources = await startMcpToolSources(loadMcpConfig(path, { env, dataDir }), { logger });
 * const factory = createDispatcherFactory({ tools: [...builtins, ...sources.tools()], sink });
 * sources.subscribe(() => factory.replaceTools([...builtins, ...sources.tools()]));
 */
export async function startMcpToolSources(
  config: McpConfig,
  opts: { logger?: SourcesLogger } = {},
): Promise<McpToolSources> {
  const { logger } = opts;
  const listeners = new Set<() => void>();
  let starting = true;
  const startProblems: string[] = [];
  const slots = config.sources.map((source) => {
    const events: SourceEvents = {
      toolsListed: () => {},
      log: (level, message, fields = {}) => logger?.[level]({ source: source.name, ...fields }, message),
    };
    return source.transport === 'stdio' && source.scope === 'user'
      ? userSlot(source, events)
      : sharedSlot(source, events);
  });

  await Promise.all(
    slots.map((slot) =>
      slot.start((listed, call) => {
        const result = toToolDefinitions(slot.config, listed, call);
        if ('problems' in result) {
          if (starting) startProblems.push(...result.problems);
          slot.refused = `tools refused: ${result.problems.join('; ')}`;
          logger?.error({ source: slot.config.name, problems: result.problems }, 'MCP source tools refused');
          return;
        }
        slot.refused = undefined;
        slot.tools = result.tools;
        if (!starting) for (const listener of listeners) listener();
      }),
    ),
  );
  starting = false;
  if (startProblems.length > 0) {
    await Promise.all(slots.map((slot) => slot.close()));
    throw new McpConfigError('MCP tool sources', startProblems);
  }

  return {
    tools: () => slots.flatMap((slot) => slot.tools),
    subscribe(onChange) {
      listeners.add(onChange);
      return () => {
        listeners.delete(onChange);
      };
    },
    health: () =>
      slots.map((slot) => {
        const { state, connects, processes, lastError } = slot.health();
        const error = slot.refused ?? lastError;
        return {
          name: slot.config.name,
          transport: slot.config.transport,
          scope: slot.config.scope,
          state,
          tools: slot.tools.length,
          connects,
          ...(processes === undefined ? {} : { processes }),
          ...(error === undefined ? {} : { lastError: error }),
        };
      }),
    userProcesses: (source) => slots.find((slot) => slot.config.name === source)?.owners() ?? [],
    close: async () => {
      await Promise.all(slots.map((slot) => slot.close()));
    },
  };
}

function sharedSlot(config: SourceConfig, events: SourceEvents): Slot {
  let accept: Accept = () => {};
  const source = new SharedSource(
    config,
    config.transport === 'http'
      ? { transport: 'http', url: config.url, headers: config.headers }
      : { transport: 'stdio', command: config.command, args: config.args, env: config.env, cwd: config.cwd },
    // Every user's calls share the one session.
    { ...events, toolsListed: (tools) => accept(tools, ({ userId: _everyone, ...call }) => source.call(call)) },
  );
  return {
    config,
    tools: [],
    refused: undefined,
    start(onListed) {
      accept = onListed;
      return source.start();
    },
    health: () => ({
      state: source.state,
      connects: source.connects,
      ...(source.lastError === undefined ? {} : { lastError: source.lastError }),
    }),
    owners: () => [],
    close: () => source.close(),
  };
}

function userSlot(config: StdioSourceConfig, events: SourceEvents): Slot {
  const pool = new UserProcessPool(config);
  let listed = false;
  let closed = false;
  let lastError: string | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // A process of no user lists the tools, and stops: user processes start on first use. Retried
  // with backoff until it works, like a shared source's connection.
  const discover = async (accept: Accept, attempt: number): Promise<void> => {
    try {
      const session = await openSession(userTarget(config, DISCOVERY_USER), {
        timeoutMs: config.connectTimeoutMs,
        onClosed: () => {},
      });
      await session.close();
      if (closed) return;
      listed = true;
      lastError = undefined;
      accept(session.tools, ({ userId, ...call }) => pool.call(userId, call));
    } catch (error) {
      lastError = `listing tools failed: ${error instanceof Error ? error.message : String(error)}`;
      events.log('warn', 'MCP per-user source could not list its tools; retrying', { error: lastError });
      if (closed) return;
      retry = setTimeout(() => void discover(accept, attempt + 1), backoffMs(attempt));
      retry.unref();
    }
  };
  return {
    config,
    tools: [],
    refused: undefined,
    start: (accept) => discover(accept, 0),
    health: () => ({
      state: closed ? 'closed' : listed ? 'ready' : 'down',
      connects: listed ? 1 : 0,
      processes: pool.size,
      ...(lastError === undefined ? {} : { lastError }),
    }),
    owners: () => pool.owners(),
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await pool.close();
    },
  };
}
