import { defineAgent, type ToolResult } from '@toolrun/dispatcher';
import { z } from 'zod';
import { describeFailure } from '../lib/toolResults.ts';

/** The parallel agent's input. */
export const parallelInput = z
  .object({
    topics: z
      .array(z.string().trim().min(1).max(100))
      .max(6)
      .default(['events', 'isolation', 'circuit breaker'])
      .describe('One search per topic'),
    expressions: z
      .array(z.string().trim().min(1).max(200))
      .max(6)
      .default(['2^10', 'sqrt(2) * 100'])
      .describe('One calculation per expression'),
    slowSteps: z.number().int().min(0).max(10).default(3).describe('Steps of a slow_task run alongside (0 for none)'),
  })
  .strict()
  .refine((input) => input.topics.length + input.expressions.length + (input.slowSteps > 0 ? 1 : 0) > 0, {
    message: 'give at least one topic, expression or slow step',
  });

interface PlannedCall {
  tool: string;
  input: Record<string, string | number>;
  label: string;
}

function summarise(call: PlannedCall, result: ToolResult): string {
  if (result.status !== 'success') return describeFailure(result);
  const output = result.output;
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return 'done';
  if (call.tool === 'search' && Array.isArray(output.results)) {
    const top = output.results[0];
    const title = typeof top === 'object' && top !== null && !Array.isArray(top) ? top.title : undefined;
    return typeof title === 'string' ? `best match "${title}"` : 'no match';
  }
  if (call.tool === 'calculator' && typeof output.formatted === 'string') return `= ${output.formatted}`;
  if (call.tool === 'slow_task' && Array.isArray(output.log)) return `${output.log.length} steps done`;
  return 'done';
}

/**
 * `parallel`: fans out independent tool calls at once (a short `slow_task`, a search per topic and
 * a calculation per expression) with `Promise.all` over `ctx.callTool`, to show parallel calls
 * interleaving in one run while `seq` still orders every event. Reports each call's outcome in order.
 */
export const parallelAgent = defineAgent({
  name: 'parallel',
  description: 'Fans out several independent tool calls at once and gathers their results.',
  input: parallelInput,
  async run({ topics, expressions, slowSteps }, ctx) {
    // The slow task goes first, so the quick calls start and finish while it is still in flight.
    const calls: PlannedCall[] = [
      ...(slowSteps > 0
        ? [{ tool: 'slow_task', input: { steps: slowSteps, delayMs: 50, label: 'background' }, label: 'slow task' }]
        : []),
      ...topics.map((query) => ({ tool: 'search', input: { query, limit: 1 }, label: `search "${query}"` })),
      ...expressions.map((expression) => ({ tool: 'calculator', input: { expression }, label: expression })),
    ];
    ctx.think(
      `Starting ${calls.length} tool calls at once (${calls.map((call) => call.label).join(', ')}). They do not ` +
        'depend on each other, so waiting for one before the next would only add latency; their events will ' +
        'interleave, and seq still orders them.',
    );
    const results = await Promise.all(calls.map((call) => ctx.callTool(call.tool, call.input)));
    ctx.signal.throwIfAborted();
    const outcomes = calls.map((call, i) => {
      const result = results[i] as ToolResult;
      return { tool: call.tool, call: call.label, status: result.status, summary: summarise(call, result) };
    });
    const succeeded = outcomes.filter((outcome) => outcome.status === 'success').length;
    ctx.think(
      `All ${calls.length} calls are back: ${succeeded} succeeded` +
        (succeeded < calls.length ? `, ${calls.length - succeeded} did not; I report each one as it ended.` : '.'),
    );
    return { calls: outcomes, succeeded, failed: calls.length - succeeded };
  },
});
