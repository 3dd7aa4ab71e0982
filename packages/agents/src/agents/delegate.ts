import { type AgentContext, DispatchError, defineAgent, type ToolResult } from '@toolrun/dispatcher';
import { z } from 'zod';
import { extractExpressions } from '../lib/extractExpressions.ts';
import { describeFailure, outputOf } from '../lib/toolResults.ts';

/** The delegate agent's input. */
export const delegateInput = z
  .object({
    question: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .default('How does the circuit breaker work, and what is 5 * 30 and sqrt(144)?')
      .describe('The words go to the research agent, the arithmetic to the calculator agent'),
    maxSources: z.number().int().min(1).max(5).default(3).describe('Passed on to the research agent'),
    saveNote: z.boolean().default(true).describe('Passed on to the research agent (its scratchpad note)'),
    subAgentTimeoutMs: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(10_000)
      .describe('Each sub-agent call ends with TOOL_TIMEOUT after this long'),
  })
  .strict();

// What the delegate reads of its sub-agents' results: the parts it combines, nothing more.
const researchOutput = z.object({
  summary: z.string().nullable(),
  sources: z.array(z.object({ id: z.string(), title: z.string(), score: z.number() })),
  note: z.string().nullable(),
  error: z.string().optional(),
});
const calculationOutput = z.object({
  answer: z.string(),
  results: z.array(
    z.union([
      z.object({ expression: z.string(), result: z.number(), formatted: z.string() }),
      z.object({ expression: z.string(), error: z.string() }),
    ]),
  ),
});

/** How a delegation went: the sub-agent call's status, or `skipped` when there was nothing to ask. */
type DelegationStatus = ToolResult['status'] | 'skipped';

type ResearchPart = {
  status: DelegationStatus;
  asked: string | null;
  summary: string | null;
  sources: z.output<typeof researchOutput>['sources'];
  note: string | null;
  error: string | null;
};

type CalculationPart = {
  status: DelegationStatus;
  expressions: string[];
  answer: string | null;
  results: z.output<typeof calculationOutput>['results'];
  error: string | null;
};

type CallAgent = NonNullable<AgentContext['callAgent']>;

async function askResearch(
  ctx: AgentContext,
  callAgent: CallAgent,
  asked: string,
  opts: { maxSources: number; saveNote: boolean; timeoutMs: number },
): Promise<ResearchPart> {
  const result = await callAgent(
    'research',
    { question: asked, maxSources: opts.maxSources, saveNote: opts.saveNote },
    { timeoutMs: opts.timeoutMs },
  );
  // A cancelled run must end cancelled, not go on to the calculator with half an answer.
  ctx.signal.throwIfAborted();
  const output = outputOf(result, researchOutput);
  if (output === undefined) {
    const error = describeFailure(result);
    ctx.think(
      `The research sub-agent did not answer: ${error}. I go on without sources and say so in the answer, ` +
        'rather than fail the whole run.',
    );
    return { status: result.status, asked, summary: null, sources: [], note: null, error };
  }
  const titles = output.sources.map((source) => `"${source.title}"`).join(', ');
  ctx.think(
    output.sources.length > 0
      ? `Research came back with ${output.sources.length} source${output.sources.length === 1 ? '' : 's'} (${titles}).`
      : `Research came back without sources${output.error === undefined ? '' : ` (${output.error})`}.`,
  );
  return {
    status: 'success',
    asked,
    summary: output.summary,
    sources: output.sources,
    note: output.note,
    error: output.error ?? null,
  };
}

async function askCalculator(
  ctx: AgentContext,
  callAgent: CallAgent,
  question: string,
  expressions: string[],
  timeoutMs: number,
): Promise<CalculationPart> {
  // The calculator agent reads the arithmetic out of the question itself: it gets the whole question.
  const result = await callAgent('calculator', { question }, { timeoutMs });
  ctx.signal.throwIfAborted();
  const output = outputOf(result, calculationOutput);
  if (output === undefined) {
    const error = describeFailure(result);
    ctx.think(`The calculator sub-agent did not answer: ${error}. I report the arithmetic as not computed.`);
    return { status: result.status, expressions, answer: null, results: [], error };
  }
  ctx.think(`The calculator sub-agent answered: ${output.answer}.`);
  return { status: 'success', expressions, answer: output.answer, results: output.results, error: null };
}

function combine(research: ResearchPart, calculation: CalculationPart): string {
  const parts: string[] = [];
  if (research.summary !== null) parts.push(research.summary);
  else if (research.status !== 'skipped') parts.push(`Research did not answer (${research.error ?? research.status}).`);
  if (calculation.answer !== null) {
    if (calculation.results.length > 0) parts.push(`Arithmetic: ${calculation.answer}.`);
  } else if (calculation.status !== 'skipped') {
    parts.push(`The arithmetic was not computed (${calculation.error ?? calculation.status}).`);
  }
  return parts.length > 0 ? parts.join(' ') : 'The question holds nothing to look up and nothing to compute.';
}

/**
 * `delegate`: shows sub-agents. It splits a question into what to look up and what to compute, then
 * runs the `research` agent on the words and the `calculator` agent on the arithmetic, each as a
 * sub-agent (`ctx.callAgent`) inside this run, one after the other, and combines both answers. Each
 * sub-agent is one `agent:<name>` tool call of the run with its own thoughts and tool calls in between.
 * A sub-agent that fails, is refused or times out is reported in the result and the thinking; the run
 * still completes. Needs the dispatcher's context: without `ctx.callAgent` it fails at once.
 */
export const delegateAgent = defineAgent({
  name: 'delegate',
  description:
    'Splits a question between two sub-agents (research for the words, calculator for the arithmetic) and combines their answers.',
  input: delegateInput,
  async run({ question, maxSources, saveNote, subAgentTimeoutMs }, ctx) {
    const callAgent = ctx.callAgent?.bind(ctx);
    if (callAgent === undefined) {
      throw new DispatchError(
        'AGENT_FAILED',
        'the delegate agent runs other agents as sub-agents, but this context has no callAgent; ' +
          'start it through the dispatcher (createDispatcherFactory), not with a hand-made context',
        { details: { reason: 'no_sub_agents' } },
      );
    }
    const { expressions, skipped } = extractExpressions(question);
    // The clauses without arithmetic make a cleaner search query: numbers would only add noise.
    const asked = skipped.join(', ');
    const plan = [
      asked.length > 0 ? `the research agent looks up "${asked}"` : null,
      expressions.length > 0
        ? `the calculator agent computes ${expressions.map((expression) => `"${expression}"`).join(', ')}`
        : null,
    ].filter((step) => step !== null);
    ctx.think(
      plan.length > 0
        ? `${plan.length === 2 ? 'I split the question in two: ' : 'One helper is enough: '}${plan.join(', then ')}. ` +
            'Each runs as a sub-agent inside this run, so ' +
            "its thoughts and tool calls show up here, between its agent: call and that call's result."
        : `I found nothing to look up and no arithmetic in "${question}", so there is nothing to delegate.`,
    );

    const research: ResearchPart =
      asked.length > 0
        ? await askResearch(ctx, callAgent, asked, { maxSources, saveNote, timeoutMs: subAgentTimeoutMs })
        : { status: 'skipped', asked: null, summary: null, sources: [], note: null, error: null };
    const calculation: CalculationPart =
      expressions.length > 0
        ? await askCalculator(ctx, callAgent, question, expressions, subAgentTimeoutMs)
        : { status: 'skipped', expressions: [], answer: null, results: [], error: null };

    const answer = combine(research, calculation);
    // A sub-agent that completed without a usable answer (no summary, odd output) has an error too.
    const failed = [research, calculation].filter((part) => part.error !== null).length;
    if (plan.length > 0) {
      ctx.think(
        failed === 0
          ? `Putting the answer together: ${plan.length === 2 ? 'the sourced summary first, then the computed numbers' : 'it is the one part I asked for'}.`
          : `${failed === plan.length ? 'No sub-agent gave' : 'One sub-agent did not give'} a usable answer; ` +
              'the answer says so instead of filling the gap with a guess.',
      );
    }
    return { question, answer, research, calculation };
  },
});
