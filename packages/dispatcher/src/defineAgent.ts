import type { z } from 'zod';
import type { UserExecutionContext } from './context.ts';
import type { ErrorInfo, JsonValue } from './events.ts';

/** How one tool call ended, as `execute` and `ctx.callTool` return it. Never thrown. */
export type ToolResult =
  | { readonly callId: string; readonly status: 'success'; readonly output: JsonValue; readonly durationMs: number }
  | {
      readonly callId: string;
      readonly status: 'error' | 'timeout' | 'cancelled' | 'denied';
      readonly error: ErrorInfo;
      readonly durationMs: number;
    };

/** What an agent's `run` receives. */
export interface AgentContext {
  readonly context: UserExecutionContext;
  /** Aborted when the run is cancelled or passes its deadline. */
  readonly signal: AbortSignal;
  /** Emits `agent_thinking` with the next step number. */
  think(text: string): void;
  /** Dispatches a tool through the run's scope; calls may run in parallel. */
  callTool(name: string, input: unknown): Promise<ToolResult>;
  /**
   * Runs another registered agent as a sub-agent, in a child context (same user, run and roles, a
   * new request id, one level deeper, at most `MAX_CONTEXT_DEPTH`). The whole sub-agent is one tool
   * call of this run (`tool: "agent:<name>"`) whose `output` is the sub-agent's result; its thoughts
   * and tool calls are events of this run. It ends with this run (cancel, deadline) and, with
   * `timeoutMs`, sooner (`TOOL_TIMEOUT`). Never rejects: failures are results (`UNKNOWN_AGENT`,
   * `ACCESS_DENIED`, `INVALID_INPUT`, `INVALID_CONTEXT` past the depth limit, `AGENT_FAILED`, …).
   *
   * Always present on the contexts the dispatcher gives agents; optional in the type only so that
   * hand-made stand-ins written before it stay valid.
   *
   * @example
   * const found = await ctx.callAgent?.('research', { question: 'What is Toolrun?' }, { timeoutMs: 10_000 });
   * if (found?.status === 'success') ctx.think(`research says ${JSON.stringify(found.output)}`);
   */
  callAgent?(name: string, input: unknown, opts?: { timeoutMs?: number }): Promise<ToolResult>;
  /**
   * Records a call of a tool that the run's client executes rather than Toolrun (an AG-UI frontend
   * tool): `tool_executing` with `tool: "client:<name>"`, then at once `tool_completed`
   * `status: 'cancelled'`, `error.code: 'CLIENT_TOOL'`. The agent should then end its run; the client
   * sends the tool's result in its next run on the same thread. Returns that `cancelled` result.
   *
   * Always present on the contexts the dispatcher gives agents; optional in the type so that
   * hand-made stand-ins stay valid.
   */
  handOffTool?(name: string, input: unknown): ToolResult;
}

/** An agent: a named planner that thinks aloud and calls tools through its run's scope. */
export interface AgentDefinition<TInput extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  /** Validates the run's input: `runs.start` refuses invalid input with the schema's issues, before any event. */
  readonly input: TInput;
  /** Only admins may start it. */
  readonly access?: 'user' | 'admin';
  /** The run's result, plain JSON. Throwing fails the run (`AGENT_FAILED`). */
  run(input: z.output<TInput>, ctx: AgentContext): Promise<JsonValue> | JsonValue;
  /**
   * Continues a run that was waiting for a person's approval when the server stopped, from that
   * pause: nothing the agent did before it runs again (README, "Approvals"). An agent without
   * `resume` cannot be resumed, and crash recovery closes its runs `interrupted`.
   */
  resume?(state: AgentResumeState, ctx: AgentContext): Promise<JsonValue> | JsonValue;
}

/** A call that was waiting for approval when the server stopped, as the resumed agent sees it. */
export interface ResumedCall {
  readonly callId: string;
  readonly tool: string;
  readonly approvalId: string;
  /** The input the call was made with (it runs with this input once approved). */
  readonly input: JsonValue;
  /** How the call ends: it waits for its approval again, then runs or is refused. Never rejects. */
  readonly result: Promise<ToolResult>;
}

/** What {@link AgentDefinition.resume} receives: the run's input (as stored, redacted) and its waiting calls. */
export interface AgentResumeState {
  readonly input: JsonValue;
  /** The calls still waiting, in the order they were made. */
  readonly pending: readonly ResumedCall[];
}

// `run` is declared as a method, so its parameter is bivariant and every agent fits here.
export type AnyAgent = AgentDefinition<z.ZodType>;

/**
 * Defines an agent, inferring its input type from the schema. The definition is frozen.
 *
 * @example
 * const echo = defineAgent({
 *   name: 'echo',
 *   description: 'Thinks, then echoes',
 *   input: z.object({ text: z.string() }),
 *   async run({ text }, ctx) {
 *     ctx.think(`echoing ${text}`);
 *     return { text };
 *   },
 * });
 */
export function defineAgent<TInput extends z.ZodType>(definition: AgentDefinition<TInput>): AgentDefinition<TInput> {
  return Object.freeze({ ...definition });
}
