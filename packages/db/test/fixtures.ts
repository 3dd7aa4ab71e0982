import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type {
  AgentCompletedEvent,
  ErrorInfo,
  JsonValue,
  RunEvent,
  RunStatus,
  ToolCallStatus,
  ToolCompletedEvent,
} from '@toolrun/dispatcher';
import Database from 'better-sqlite3';

/** A fresh temp folder with a database path in it; `cleanup()` removes the folder. */
export function tempDb(name = 'toolrun.db'): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-db-'));
  return { dir, path: join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** SHA-256 of a file's bytes: proves a refused file was left untouched. */
/** How many event rows the file holds, read through a connection of its own (read-only). */
export function countEvents(path: string): number {
  const raw = new Database(path, { readonly: true });
  try {
    return Number(raw.prepare('SELECT count(*) FROM run_events').pluck().get());
  } finally {
    raw.close();
  }
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Builds one run's events the way the dispatcher would: envelope stamped, seq 1, 2, 3 …,
 * `at` one millisecond apart from `startMs`, tool calls opened and closed in any interleaving.
 */
export class RunBuilder {
  readonly runId: string;
  readonly userId: string;
  readonly threadId: string;
  readonly startMs: number;
  /** Every event built so far, in seq order. */
  readonly events: RunEvent[] = [];
  private seq = 0;
  private step = 0;
  private calls = 0;
  private readonly open = new Map<string, { tool: string; seq: number }>();

  constructor(opts: { runId: string; userId: string; threadId?: string; startMs?: number }) {
    this.runId = opts.runId;
    this.userId = opts.userId;
    this.threadId = opts.threadId ?? `thread-of-${opts.runId}`;
    this.startMs = opts.startMs ?? Date.UTC(2026, 0, 1);
  }

  private envelope() {
    this.seq += 1;
    return {
      id: `${this.runId}:${this.seq}`,
      seq: this.seq,
      runId: this.runId,
      userId: this.userId,
      threadId: this.threadId,
      at: new Date(this.startMs + this.seq - 1).toISOString(),
    };
  }

  private push<E extends RunEvent>(event: E): E {
    this.events.push(event);
    return event;
  }

  started(agent = 'research', input: JsonValue = { q: 'why' }): RunEvent {
    return this.push({ ...this.envelope(), type: 'agent_started', agent, input });
  }

  thinking(text = 'hmm'): RunEvent {
    this.step += 1;
    return this.push({ ...this.envelope(), type: 'agent_thinking', text, step: this.step });
  }

  /** Opens a tool call; returns its callId. */
  toolExecuting(tool = 'search', input: JsonValue = { term: 'x' }): string {
    this.calls += 1;
    const callId = `${this.runId}-call-${this.calls}`;
    const envelope = this.envelope();
    this.open.set(callId, { tool, seq: envelope.seq });
    this.push({ ...envelope, type: 'tool_executing', callId, tool, input });
    return callId;
  }

  toolCompleted(
    callId: string,
    status: ToolCallStatus = 'success',
    output: JsonValue = { ok: true },
  ): ToolCompletedEvent {
    const call = this.open.get(callId);
    if (call === undefined) throw new Error(`fixture misuse: ${callId} is not open`);
    this.open.delete(callId);
    const outcome: { output: JsonValue } | { error: ErrorInfo } =
      status === 'success' ? { output } : { error: { code: 'TOOL_FAILED', message: `${status}` } };
    return this.push({
      ...this.envelope(),
      type: 'tool_completed',
      callId,
      tool: call.tool,
      status,
      ...outcome,
      durationMs: 3,
    });
  }

  completed(status: RunStatus = 'completed', result: JsonValue = { answer: 42 }): AgentCompletedEvent {
    const outcome: { result: JsonValue } | { error: ErrorInfo } =
      status === 'completed' ? { result } : { error: { code: 'AGENT_FAILED', message: status } };
    return this.push({
      ...this.envelope(),
      type: 'agent_completed',
      status,
      ...outcome,
      durationMs: this.seq,
      toolCalls: this.calls,
    });
  }

  /** The callIds still open. */
  openCalls(): string[] {
    return [...this.open.keys()];
  }
}

/** A complete, well-formed run: started, `thinking` thoughts, `toolCalls` sequential calls, completed. */
export function makeRun(opts: {
  runId: string;
  userId: string;
  startMs?: number;
  agent?: string;
  thinking?: number;
  toolCalls?: number;
  status?: RunStatus;
  threadId?: string;
}): RunEvent[] {
  const run = new RunBuilder(opts);
  run.started(opts.agent);
  for (let i = 0; i < (opts.thinking ?? 1); i += 1) run.thinking(`thought ${i}`);
  for (let i = 0; i < (opts.toolCalls ?? 2); i += 1)
    run.toolCompleted(run.toolExecuting('search', { i }), i % 3 === 2 ? 'error' : 'success');
  run.completed(opts.status);
  return run.events;
}

/**
 * Writes a run's events the way the dispatcher calls its sink: in seq order, in chunks of 1 to
 * `maxChunk` events, never starting a write before the previous one settled.
 */
export async function writeInChunks(
  sink: { write(events: readonly RunEvent[]): Promise<void> },
  events: readonly RunEvent[],
  maxChunk = 3,
  salt = 0,
): Promise<void> {
  let i = 0;
  let n = salt;
  while (i < events.length) {
    n += 1;
    const size = 1 + (n % maxChunk);
    await sink.write(events.slice(i, i + size));
    i += size;
  }
}

/**
 * Checks one run's events against ARCHITECTURE.md's ordering rules; returns the problems found
 * (empty when the run is well-formed and terminal).
 */
export function contractProblems(events: readonly RunEvent[]): string[] {
  const problems: string[] = [];
  const open = new Set<string>();
  events.forEach((event, i) => {
    if (event.seq !== i + 1) problems.push(`${event.id}: seq ${event.seq} at position ${i + 1}`);
    if (event.id !== `${event.runId}:${event.seq}`) problems.push(`${event.id}: bad id`);
    if ((i === 0) !== (event.type === 'agent_started'))
      problems.push(`${event.id}: agent_started must be first and only first`);
    const last = i === events.length - 1;
    if (last !== (event.type === 'agent_completed'))
      problems.push(`${event.id}: agent_completed must be last and only last`);
    if (event.type === 'tool_executing') open.add(event.callId);
    if (event.type === 'tool_completed' && !open.delete(event.callId))
      problems.push(`${event.id}: completes an unknown call`);
  });
  if (open.size > 0) problems.push(`${events[0]?.runId}: ${open.size} tool call(s) never completed`);
  if (events.length === 0) problems.push('no events');
  return problems;
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection, reached through V8's `--expose-gc` flag set at run time (so the test
 * runner needs no flag). Call it after a macrotask turn: a WeakRef's target survives the job that
 * last dereferenced it.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
