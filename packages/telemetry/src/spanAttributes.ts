import type { Attributes } from '@opentelemetry/api';
import type {
  AgentCompletedEvent,
  AgentStartedEvent,
  ToolCompletedEvent,
  ToolExecutingEvent,
} from '@toolrun/dispatcher';

/** How a sub-agent call names its tool: `agent:<name>`. */
export const SUB_AGENT_PREFIX = 'agent:';

/**
 * Span attributes of runs and calls: the OpenTelemetry GenAI semantic conventions
 * (`gen_ai.operation.name`, `gen_ai.agent.name`, `gen_ai.tool.name`, `gen_ai.tool.call.id`,
 * `error.type`) and Toolrun's own `toolrun.*`. Content (`gen_ai.tool.call.arguments`, …) only when
 * asked for, and then the events' redacted form.
 */
export const spanAttributes = {
  run(started: AgentStartedEvent, completed: AgentCompletedEvent, firstSeq: number, content: boolean): Attributes {
    const attributes: Attributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': started.agent,
      'gen_ai.conversation.id': started.threadId,
      'toolrun.run.id': started.runId,
      'toolrun.user.id': started.userId,
      'toolrun.thread.id': started.threadId,
      'toolrun.seq.first': firstSeq,
      'toolrun.seq.last': completed.seq,
      'toolrun.status': completed.status,
      'toolrun.tool_calls': completed.toolCalls,
    };
    if (completed.error !== undefined) {
      attributes['error.type'] = completed.error.code;
      attributes['toolrun.error.code'] = completed.error.code;
    }
    if (content) {
      attributes['toolrun.run.input'] = JSON.stringify(started.input);
      if (completed.result !== undefined) attributes['toolrun.run.result'] = JSON.stringify(completed.result);
    }
    return attributes;
  },

  call(executing: ToolExecutingEvent, completed: ToolCompletedEvent | undefined, content: boolean): Attributes {
    const subAgent = executing.tool.startsWith(SUB_AGENT_PREFIX);
    const attributes: Attributes = subAgent
      ? {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': executing.tool.slice(SUB_AGENT_PREFIX.length),
        }
      : { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': executing.tool, 'gen_ai.tool.type': 'function' };
    attributes['gen_ai.tool.call.id'] = executing.callId;
    attributes['toolrun.run.id'] = executing.runId;
    attributes['toolrun.seq.first'] = executing.seq;
    if (executing.parentCallId !== undefined) attributes['toolrun.parent_call.id'] = executing.parentCallId;
    if (completed !== undefined) {
      attributes['toolrun.seq.last'] = completed.seq;
      attributes['toolrun.status'] = completed.status;
      if (completed.error !== undefined) {
        attributes['error.type'] = completed.error.code;
        attributes['toolrun.error.code'] = completed.error.code;
      }
    }
    if (content) {
      attributes['gen_ai.tool.call.arguments'] = JSON.stringify(executing.input);
      if (completed?.output !== undefined) attributes['gen_ai.tool.call.result'] = JSON.stringify(completed.output);
    }
    return attributes;
  },
};
