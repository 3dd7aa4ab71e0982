import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type {
  AgentCompletedEvent,
  ErrorInfo,
  JsonValue,
  RequestScopedToolDispatcher,
  RunEvent,
  RunEventOf,
  RunEventType,
  ToolResult,
} from './index.ts';
import { createDispatcherFactory, defineTool, type runEventSchema } from './index.ts';

describe('the event union', () => {
  it('narrows on type', () => {
    const handle = (event: RunEvent): string => {
      switch (event.type) {
        case 'agent_started':
          expectTypeOf(event.agent).toEqualTypeOf<string>();
          return event.agent;
        case 'agent_thinking':
          expectTypeOf(event.step).toEqualTypeOf<number>();
          return event.text;
        case 'tool_executing':
          expectTypeOf(event.input).toEqualTypeOf<JsonValue>();
          return event.callId;
        case 'tool_completed':
          expectTypeOf(event.status).toEqualTypeOf<'success' | 'error' | 'timeout' | 'cancelled' | 'denied'>();
          expectTypeOf(event.error).toEqualTypeOf<ErrorInfo | undefined>();
          return event.tool;
        case 'agent_completed':
          expectTypeOf(event.status).toEqualTypeOf<'completed' | 'failed' | 'cancelled' | 'interrupted'>();
          return String(event.toolCalls);
        default: {
          expectTypeOf(event).toBeNever();
          return event;
        }
      }
    };
    expectTypeOf(handle).parameter(0).toEqualTypeOf<RunEvent>();
  });

  it('has exactly five types, and RunEventOf picks one', () => {
    expectTypeOf<RunEventType>().toEqualTypeOf<
      'agent_started' | 'agent_thinking' | 'tool_executing' | 'tool_completed' | 'agent_completed'
    >();
    expectTypeOf<RunEventOf<'agent_completed'>>().toEqualTypeOf<AgentCompletedEvent>();
    // @ts-expect-error: not an event type
    type _Nope = RunEventOf<'tool_started'>;
  });

  it('matches its runtime schema both ways', () => {
    const parsed = {} as z.output<typeof runEventSchema>;
    const event: RunEvent = parsed;
    const back: z.output<typeof runEventSchema> = event;
    expectTypeOf(back).not.toBeAny();
  });

  it('keeps tool results assignable to JSON, so agents can return them', () => {
    const result = {} as ToolResult;
    const json: JsonValue = result;
    expectTypeOf(json).not.toBeAny();
  });
});

describe('the public surface', () => {
  it('types a tool’s input from its schema', () => {
    defineTool({
      name: 'typed',
      description: 'd',
      input: {} as z.ZodObject<{ a: z.ZodNumber }>,
      access: 'user',
      run: (input) => {
        expectTypeOf(input).toEqualTypeOf<{ a: number }>();
        return null;
      },
    });
  });

  it('exposes the scoped dispatcher as an interface only: nothing to construct', () => {
    expectTypeOf<RequestScopedToolDispatcher['execute']>().returns.toEqualTypeOf<Promise<ToolResult>>();
    expectTypeOf<RequestScopedToolDispatcher>().toMatchTypeOf<AsyncDisposable>();
    // @ts-expect-error: an interface has no constructor
    new RequestScopedToolDispatcher();
    expectTypeOf(createDispatcherFactory).returns.toHaveProperty('forRequest');
  });
});
