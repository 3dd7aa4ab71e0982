import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, type ToolResult } from './defineAgent.ts';
import { createDispatcherFactory } from './factory.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { createMemorySink } from './memorySink.ts';
import { runAgent } from './runAgent.ts';
import { contextFor, testTools } from './testSupport.ts';

describe('ctx.handOffTool (a call the client runs)', () => {
  it('records tool_executing client:<name> and at once tool_completed cancelled/CLIENT_TOOL, keeping every ordering rule', async () => {
    let handed: ToolResult | undefined;
    let ctxRef: { handOffTool?: (name: string, input: unknown) => ToolResult } | undefined;
    const agent = defineAgent({
      name: 'frontend',
      description: 'hands a call to its client',
      input: z.object({}),
      async run(_input, ctx) {
        ctxRef = ctx;
        // A backend call in flight while the client's call is handed off, as in one model turn.
        const adding = ctx.callTool('add', { a: 1, b: 2 });
        handed = ctx.handOffTool?.('confirm', { day: 'monday', password: 'x' });
        const added = await adding;
        return { added: added.status, pending: handed?.callId ?? null };
      },
    });
    const sink = createMemorySink();
    const factory = createDispatcherFactory({ tools: testTools(), agents: [agent], sink });
    const context = contextFor('alice');
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, agent, {});
    expect(last).toMatchObject({ status: 'completed', toolCalls: 2 });
    const events = sink.events(context.runId);
    expect(findOrderingViolations(events)).toEqual([]);
    const executing = events.find((e) => e.type === 'tool_executing' && e.tool === 'client:confirm');
    expect(executing).toMatchObject({ input: { day: 'monday', password: '[REDACTED]' } });
    expect(handed).toMatchObject({ status: 'cancelled', error: { code: 'CLIENT_TOOL' } });
    const completed = events.find((e) => e.type === 'tool_completed' && e.callId === handed?.callId);
    expect(completed).toMatchObject({ tool: 'client:confirm', status: 'cancelled', error: { code: 'CLIENT_TOOL' } });
    // After the run, a hand-off is dropped quietly: no event can follow agent_completed.
    const late = ctxRef?.handOffTool?.('confirm', {});
    expect(late).toMatchObject({ status: 'cancelled', error: { code: 'RUN_FINISHED' } });
    expect(sink.events(context.runId)).toHaveLength(events.length);
  });
});
