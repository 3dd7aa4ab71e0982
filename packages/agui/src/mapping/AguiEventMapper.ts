import type { Event, ToolCallArgsEvent, ToolCallEndEvent, ToolCallStartEvent } from '@ag-ui/core';
import { EventType } from '@ag-ui/core';
import type {
  AgentCompletedEvent,
  AgentStartedEvent,
  RunEvent,
  ToolCompletedEvent,
  ToolExecutingEvent,
} from '@toolrun/dispatcher';
import { CLIENT_TOOL_PREFIX } from '@toolrun/dispatcher';

/** The `error.code` of a call handed to the client (see `AgentContext.handOffTool`). */
const CLIENT_TOOL = 'CLIENT_TOOL';

/** Toolrun's ids of the event an AG-UI event was made from, in its `metadata.toolrun`. */
export interface ToolrunMetadata {
  runId: string;
  /** The Toolrun event id (`${runId}:${seq}`): the SSE `id:` and the `Last-Event-ID` to reattach from. */
  id: string;
  seq: number;
}

interface OpenCall {
  readonly executing: ToolExecutingEvent;
  /** Handed to the client: its result will come from the client, in a later run. */
  pending: boolean;
}

/**
 * Turns one run's five Toolrun events, in seq order, into AG-UI 1.0 events that the official client's
 * `verifyEvents` accepts, and remembers what a fresh client needs to pick the run up mid-way
 * ({@link AguiEventMapper.prelude}). One mapper per run and per connection.
 *
 * - `agent_started` → `RUN_STARTED` (Toolrun's run and thread ids).
 * - `agent_thinking` → `REASONING_START`, `REASONING_MESSAGE_START`, `…_CONTENT` (the text),
 *   `REASONING_MESSAGE_END`, `REASONING_END`: a span per thought, so none is open between two events.
 * - `tool_executing` → `TOOL_CALL_START`, `TOOL_CALL_ARGS` (the redacted input as JSON),
 *   `TOOL_CALL_END`; parallel calls interleave freely (the client tracks calls by id).
 * - `tool_completed` → `TOOL_CALL_RESULT`: the output as JSON, or `{"status","error"}` for a failure;
 *   nothing for a call handed to the client (`CLIENT_TOOL`): it is pending.
 * - `agent_completed` → `RUN_FINISHED` (`completed`: outcome `success` with the result and the
 *   pending calls' ids; `cancelled`: outcome `cancelled`) or `RUN_ERROR` (`failed`, `interrupted`).
 *
 * Every event carries an integer `timestamp` (epoch ms of the Toolrun event) and
 * `metadata: { toolrun: { runId, id, seq } }`.
 */
export class AguiEventMapper {
  #started: AgentStartedEvent | undefined;
  readonly #open = new Map<string, OpenCall>();

  /** The AG-UI events for `event`. */
  map(event: RunEvent): Event[] {
    switch (event.type) {
      case 'agent_started':
        this.#started = event;
        return [runStarted(event)];
      case 'agent_thinking': {
        const base = common(event);
        const messageId = event.id;
        return [
          { ...base, type: EventType.REASONING_START, messageId },
          { ...base, type: EventType.REASONING_MESSAGE_START, messageId, role: 'reasoning' },
          ...(event.text.length > 0
            ? [{ ...base, type: EventType.REASONING_MESSAGE_CONTENT, messageId, delta: event.text } as const]
            : []),
          { ...base, type: EventType.REASONING_MESSAGE_END, messageId },
          { ...base, type: EventType.REASONING_END, messageId },
        ];
      }
      case 'tool_executing':
        this.#open.set(event.callId, { executing: event, pending: false });
        return toolCallOpening(event);
      case 'tool_completed':
        return this.#completed(event);
      case 'agent_completed':
        return [this.#finished(event)];
      default: {
        const unexpected: never = event;
        throw new Error(`unexpected event ${JSON.stringify(unexpected)}`);
      }
    }
  }

  /**
   * What a client that joins the run now must see first so that the rest verifies and reads whole:
   * `RUN_STARTED`, then the opening (`TOOL_CALL_START`, `…_ARGS`, `…_END`) of every call still
   * waiting for its result (running, or handed to the client), in the order they started. No
   * reasoning span is ever open between two Toolrun events, so none is reopened. Empty before
   * `agent_started`.
   */
  prelude(): Event[] {
    const started = this.#started;
    if (started === undefined) return [];
    return [runStarted(started), ...[...this.#open.values()].flatMap((call) => toolCallOpening(call.executing))];
  }

  #completed(event: ToolCompletedEvent): Event[] {
    const call = this.#open.get(event.callId);
    if (event.status !== 'success' && event.error?.code === CLIENT_TOOL && call !== undefined) {
      call.pending = true;
      return [];
    }
    this.#open.delete(event.callId);
    const content =
      event.status === 'success'
        ? JSON.stringify(event.output ?? null)
        : JSON.stringify({ status: event.status, error: event.error ?? { code: 'UNKNOWN', message: event.status } });
    return [
      {
        ...common(event),
        type: EventType.TOOL_CALL_RESULT,
        messageId: `${event.id}:result`,
        toolCallId: event.callId,
        content,
        role: 'tool',
      },
    ];
  }

  #finished(event: AgentCompletedEvent): Event {
    const base = { ...common(event), threadId: event.threadId, runId: event.runId };
    const pending = [...this.#open.values()].filter((call) => call.pending).map((call) => call.executing.callId);
    switch (event.status) {
      case 'completed':
        return {
          ...base,
          type: EventType.RUN_FINISHED,
          // RUN_FINISHED.result may be absent, never null.
          ...(event.result === undefined || event.result === null ? {} : { result: event.result }),
          outcome: { type: 'success', ...(pending.length > 0 ? { pendingToolCallIds: pending } : {}) },
        };
      case 'cancelled':
        return { ...base, type: EventType.RUN_FINISHED, outcome: { type: 'cancelled' } };
      case 'failed':
      case 'interrupted':
        return {
          ...common(event),
          type: EventType.RUN_ERROR,
          message: event.error?.message ?? `the run ${event.status}`,
          code: event.error?.code ?? event.status.toUpperCase(),
        };
      default: {
        const unexpected: never = event.status;
        throw new Error(`unexpected run status ${String(unexpected)}`);
      }
    }
  }
}

function common(event: RunEvent): { timestamp: number; metadata: { toolrun: ToolrunMetadata } } {
  return {
    timestamp: Date.parse(event.at),
    metadata: { toolrun: { runId: event.runId, id: event.id, seq: event.seq } },
  };
}

function runStarted(event: AgentStartedEvent): Event {
  return { ...common(event), type: EventType.RUN_STARTED, threadId: event.threadId, runId: event.runId };
}

/** A client tool is known to its client by its own name, without Toolrun's `client:` prefix. */
function toolCallName(tool: string): string {
  return tool.startsWith(CLIENT_TOOL_PREFIX) ? tool.slice(CLIENT_TOOL_PREFIX.length) : tool;
}

function toolCallOpening(event: ToolExecutingEvent): [ToolCallStartEvent, ToolCallArgsEvent, ToolCallEndEvent] {
  const base = common(event);
  const toolCallId = event.callId;
  return [
    { ...base, type: EventType.TOOL_CALL_START, toolCallId, toolCallName: toolCallName(event.tool) },
    { ...base, type: EventType.TOOL_CALL_ARGS, toolCallId, delta: JSON.stringify(event.input) },
    { ...base, type: EventType.TOOL_CALL_END, toolCallId },
  ];
}
