import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from './defineTool.ts';
import { createDispatcherFactory } from './factory.ts';
import { createMemorySink } from './memorySink.ts';
import type { CallTracing, TraceContext } from './ports.ts';

describe('ctx.traceContext: the call’s trace context through the CallTracing port', () => {
  const seen: (TraceContext | undefined)[] = [];
  const tools = [
    defineTool({
      name: 'outbound',
      description: 'passes its trace context on',
      input: z.object({}),
      access: 'user',
      run: (_input, ctx) => {
        seen.push(ctx.traceContext);
        return { ok: true };
      },
    }),
    defineTool({
      name: 'local',
      description: 'calls nothing downstream',
      input: z.object({}),
      access: 'user',
      run: () => ({ ok: true }),
    }),
  ];

  it('asks the port for the calling run and call, only when a tool reads it', async () => {
    const asked: { runId: string; callId: string }[] = [];
    const tracing: CallTracing = {
      traceContextOf: (call) => {
        asked.push({ ...call });
        return { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: 'k=v' };
      },
    };
    const factory = createDispatcherFactory({ tools, sink: createMemorySink(), tracing });
    const context = factory.createContext({ userId: 'alice' });
    await using scope = factory.forRequest(context);
    await scope.execute('local', {});
    expect(asked).toEqual([]);
    const result = await scope.execute('outbound', {});
    expect(result.status).toBe('success');
    expect(asked).toEqual([{ runId: context.runId, callId: result.callId }]);
    expect(seen.at(-1)).toEqual({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: 'k=v' });
  });

  it('is undefined when the server does not trace', async () => {
    const factory = createDispatcherFactory({ tools, sink: createMemorySink() });
    await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    await scope.execute('outbound', {});
    expect(seen.at(-1)).toBeUndefined();
  });
});
