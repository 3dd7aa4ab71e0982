import {
  type AgentContext,
  type AnyAgent,
  type AnyTool,
  createUserExecutionContext,
  isDispatchError,
  type JsonValue,
  type Role,
  type ToolResult,
} from '@toolrun/dispatcher';

/** What the stand-in records, in the order it happened (a subset of the real events' fields). */
export type StandInEvent =
  | { type: 'agent_thinking'; text: string; step: number }
  | { type: 'tool_executing'; callId: string; tool: string; input: unknown }
  | { type: 'tool_completed'; callId: string; tool: string; result: ToolResult };

/**
 * An {@link AgentContext} for unit tests. It stands in for the dispatcher's scope (the real one is
 * `createDispatcherFactory` in `@toolrun/dispatcher`, exercised by `test/demoAgents.integration.test.ts`):
 * it looks the tool up, refuses admin tools without the admin role, parses the input with the tool's
 * schema, runs it with the run's signal and turns a throw into a `ToolResult`, like the real scope,
 * but with no limits, breaker, timeouts or redaction. `intercept` lets a test answer a call itself,
 * for outcomes only the real dispatcher produces (say `CIRCUIT_OPEN`). With `agents`, the context has
 * `callAgent`: it records the call as a tool call `agent:<name>` and runs the agent on this same
 * context (no child context, depth, timeout or guards but the schema); without, it has none, like a
 * stand-in written before sub-agents existed.
 */
export function standInAgentContext(opts: {
  tools: readonly AnyTool[];
  userId?: string;
  roles?: readonly Role[];
  signal?: AbortSignal;
  agents?: readonly AnyAgent[];
  intercept?: (tool: string, input: unknown, callId: string) => ToolResult | undefined;
}): { ctx: AgentContext; events: StandInEvent[] } {
  const events: StandInEvent[] = [];
  const context = createUserExecutionContext({
    userId: opts.userId ?? 'alice',
    threadId: 'thread-42',
    runId: `run-${Math.random().toString(36).slice(2)}`,
    roles: opts.roles ?? ['user'],
  });
  const signal = opts.signal ?? new AbortController().signal;
  let step = 0;
  let calls = 0;

  async function execute(name: string, input: unknown, callId: string): Promise<ToolResult> {
    const started = performance.now();
    const fail = (status: Exclude<ToolResult['status'], 'success'>, code: string, message: string): ToolResult => ({
      callId,
      status,
      error: { code, message },
      durationMs: performance.now() - started,
    });
    const intercepted = opts.intercept?.(name, input, callId);
    if (intercepted !== undefined) return intercepted;
    const tool = opts.tools.find((candidate) => candidate.name === name);
    if (tool === undefined) return fail('error', 'UNKNOWN_TOOL', `unknown tool "${name}"`);
    if (tool.access === 'admin' && !context.roles.includes('admin')) {
      return fail('denied', 'ACCESS_DENIED', `"${name}" needs the admin role`);
    }
    const parsed = tool.input.safeParse(input);
    if (!parsed.success) return fail('error', 'INVALID_INPUT', parsed.error.message);
    if (signal.aborted) return fail('cancelled', 'CANCELLED', 'the run was cancelled');
    try {
      const output = (await tool.run(parsed.data, {
        context,
        signal,
        callId,
        idempotencyKey: `${context.runId}:${callId}`,
        heartbeat: () => {},
      })) as JsonValue;
      return { callId, status: 'success', output: structuredClone(output), durationMs: performance.now() - started };
    } catch (error) {
      if (signal.aborted) return fail('cancelled', 'CANCELLED', 'the run was cancelled');
      const code = isDispatchError(error) ? error.code : 'TOOL_FAILED';
      return fail('error', code, error instanceof Error ? error.message : String(error));
    }
  }

  const ctx: AgentContext = {
    context,
    signal,
    think(text) {
      step += 1;
      events.push({ type: 'agent_thinking', text, step });
    },
    async callTool(name, input) {
      calls += 1;
      const callId = `call-${calls}`;
      events.push({ type: 'tool_executing', callId, tool: name, input });
      const result = await execute(name, input, callId);
      events.push({ type: 'tool_completed', callId, tool: name, result });
      return result;
    },
  };
  const agents = opts.agents;
  if (agents === undefined) return { ctx, events };
  const withAgents: AgentContext = {
    ...ctx,
    async callAgent(name, input) {
      calls += 1;
      const callId = `call-${calls}`;
      const tool = `agent:${name}`;
      events.push({ type: 'tool_executing', callId, tool, input });
      const started = performance.now();
      const fail = (code: string, message: string): ToolResult => ({
        callId,
        status: 'error',
        error: { code, message },
        durationMs: performance.now() - started,
      });
      const agent = agents.find((candidate) => candidate.name === name);
      const parsed = agent?.input.safeParse(input);
      let result: ToolResult;
      if (agent === undefined || parsed === undefined) result = fail('UNKNOWN_AGENT', `unknown agent "${name}"`);
      else if (!parsed.success) result = fail('INVALID_INPUT', parsed.error.message);
      else {
        try {
          const output = await agent.run(parsed.data, withAgents);
          result = {
            callId,
            status: 'success',
            output: structuredClone(output),
            durationMs: performance.now() - started,
          };
        } catch (error) {
          result = fail('AGENT_FAILED', error instanceof Error ? error.message : String(error));
        }
      }
      events.push({ type: 'tool_completed', callId, tool, result });
      return result;
    },
  };
  return { ctx: withAgents, events };
}
