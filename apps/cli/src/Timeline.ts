import type { RunEvent } from '@toolrun/api';
import type { Colors } from 'picocolors/types';

type ToolCompleted = Extract<RunEvent, { type: 'tool_completed' }>;
type AgentCompleted = Extract<RunEvent, { type: 'agent_completed' }>;

interface OpenCall {
  tool: string;
  input: string;
  depth: number;
  since: number;
}

/** Sub-agents run as tool calls named `agent:<name>`; what they do happens while that call is open. */
const isSubAgent = (tool: string) => tool.startsWith('agent:');

/** A value as one short line of JSON: for inputs, outputs and results in a timeline. */
export function shortJson(value: unknown, max = 80): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `12 ms`, `1.2 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

/**
 * Turns one run's events into the lines of a terminal timeline: one line per event, thinking and
 * tool calls indented under the sub-agent call they happen in. A tool call that is still running is
 * not a line yet: it is listed by {@link Timeline.running} (the spinner shows it) and becomes one
 * line with its status and duration when it completes; without a live terminal (`live: false`) its
 * start is a line of its own too, so a log keeps every event.
 */
export class Timeline {
  readonly #open = new Map<string, OpenCall>();
  readonly #c: Colors;
  readonly #live: boolean;
  #agent = '';
  #startedAt = Date.now();

  constructor(opts: { color: Colors; live: boolean }) {
    this.#c = opts.color;
    this.#live = opts.live;
  }

  /** The lines to print for `event` (none for a tool call starting on a live terminal). */
  linesFor(event: RunEvent): string[] {
    const c = this.#c;
    const subAgents = [...this.#open.values()].filter((call) => isSubAgent(call.tool)).length;
    const indent = '  '.repeat(subAgents + 1);
    switch (event.type) {
      case 'agent_started': {
        this.#agent = event.agent;
        this.#startedAt = Date.parse(event.at);
        return [
          `${c.bold(c.cyan('▶'))} ${c.bold(event.agent)} ${c.dim(`run ${event.runId} · thread ${event.threadId}`)}`,
          `  ${c.dim(`input ${shortJson(event.input, 100)}`)}`,
        ];
      }
      case 'agent_thinking':
        return [`${indent}${c.dim('·')} ${event.text}`];
      case 'tool_executing': {
        const input = shortJson(event.input, 60);
        this.#open.set(event.callId, { tool: event.tool, input, depth: subAgents, since: Date.now() });
        if (this.#live) return [];
        return [`${indent}${c.dim('⋯')} ${this.#name(event.tool)} ${c.dim(input)} ${c.dim('running')}`];
      }
      case 'tool_completed': {
        const call = this.#open.get(event.callId);
        this.#open.delete(event.callId);
        const depth = call?.depth ?? subAgents;
        const input = call === undefined ? '' : ` ${c.dim(call.input)}`;
        return [
          `${'  '.repeat(depth + 1)}${this.#mark(event)} ${this.#name(event.tool)}${input} ${this.#outcome(event)} ${c.dim(formatDuration(event.durationMs))}`,
        ];
      }
      case 'agent_completed':
        return this.#ending(event);
      default: {
        const unreachable: never = event;
        return [`${indent}${shortJson(unreachable)}`];
      }
    }
  }

  /** The spinner's text: the agent, the time so far and each tool call in flight with its own time. */
  running(now = Date.now()): string {
    const head = `${this.#agent || 'starting'} ${this.#c.dim(formatDuration(now - this.#startedAt))}`;
    const calls = [...this.#open.values()].map(
      (call) =>
        `${'  '.repeat(call.depth + 1)}${this.#c.dim('⋯')} ${this.#name(call.tool)} ${this.#c.dim(call.input)} ${this.#c.dim(formatDuration(now - call.since))}`,
    );
    return [head, ...calls].join('\n');
  }

  #name(tool: string): string {
    return isSubAgent(tool) ? this.#c.magenta(tool) : this.#c.bold(tool);
  }

  #mark(event: ToolCompleted): string {
    const c = this.#c;
    switch (event.status) {
      case 'success':
        return c.green('✔');
      case 'error':
        return c.red('✖');
      case 'timeout':
        return c.yellow('⏱');
      case 'cancelled':
        return c.yellow('⊘');
      case 'denied':
        return c.red('⊗');
      default: {
        const unreachable: never = event.status;
        return String(unreachable);
      }
    }
  }

  #outcome(event: ToolCompleted): string {
    const c = this.#c;
    if (event.status === 'success') return `${c.dim('→')} ${shortJson(event.output, 60)}`;
    const error = event.error === undefined ? '' : ` ${event.error.code}: ${event.error.message}`;
    return c.red(`${event.status}${error}`);
  }

  #ending(event: AgentCompleted): string[] {
    const c = this.#c;
    const calls = `${event.toolCalls} tool call${event.toolCalls === 1 ? '' : 's'}`;
    const summary = `${event.status} in ${formatDuration(event.durationMs)} · ${calls}`;
    if (event.status !== 'completed') {
      const error = event.error === undefined ? '' : `: ${event.error.code}: ${event.error.message}`;
      const mark = event.status === 'failed' ? c.red('✖') : c.yellow('⊘');
      return [`${mark} ${c.bold(summary)}${error}`];
    }
    const result = event.result;
    const answer =
      typeof result === 'object' && result !== null && !Array.isArray(result) && typeof result.answer === 'string'
        ? result.answer
        : undefined;
    return [
      `${c.green('✔')} ${c.bold(summary)}`,
      answer ?? JSON.stringify(result, null, 2),
      ...(answer === undefined ? [] : [c.dim(`result ${shortJson(result, 200)}`)]),
    ];
  }
}
