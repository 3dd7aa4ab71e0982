import { formatMs, jsonPreview } from '../../lib/format.ts';
import type { RunEvent } from '../../lib/types.ts';

/** One line saying what an event is about, for the replay list. */
export function eventSummary(event: RunEvent): string {
  switch (event.type) {
    case 'agent_started':
      return `${event.agent} ${jsonPreview(event.input, 100)}`;
    case 'agent_thinking':
      return `step ${event.step}: ${event.text}`;
    case 'tool_executing':
      return `${event.tool} [${event.callId}] ${jsonPreview(event.input, 100)}`;
    case 'tool_completed':
      return `${event.tool} [${event.callId}] ${event.status} in ${formatMs(event.durationMs)} ${
        event.error === undefined ? jsonPreview(event.output, 80) : `${event.error.code}: ${event.error.message}`
      }`;
    case 'agent_completed':
      return `${event.status} in ${formatMs(event.durationMs)}, ${event.toolCalls} tool calls ${
        event.error === undefined ? jsonPreview(event.result, 80) : `${event.error.code}: ${event.error.message}`
      }`;
    default: {
      const exhaustive: never = event;
      throw new Error(`unknown event ${JSON.stringify(exhaustive)}`);
    }
  }
}
