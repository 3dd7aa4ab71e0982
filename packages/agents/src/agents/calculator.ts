import { defineAgent } from '@toolrun/dispatcher';
import { z } from 'zod';
import { extractExpressions } from '../lib/extractExpressions.ts';
import { describeFailure, outputOf } from '../lib/toolResults.ts';

const calculatorOutput = z.object({ result: z.number(), formatted: z.string() });

/** The calculator agent's input. */
export const calculatorAgentInput = z
  .object({
    question: z.string().trim().min(1).max(500).default('What is (2+3)*4 and sqrt(16)?'),
  })
  .strict();

type Answer = { expression: string; result: number; formatted: string } | { expression: string; error: string };

/**
 * `calculator`: reads the arithmetic out of a question in plain English ("what is (2+3)*4 and
 * sqrt(16)?", "10 divided by 4") and hands each expression to the `calculator` tool, one call each,
 * so every number in the answer was computed by the parser rather than made up. An expression the
 * tool refuses is reported with the tool's reason; the run still completes.
 */
export const calculatorAgent = defineAgent({
  name: 'calculator',
  description: 'Reads the arithmetic in a question and computes each part with the calculator tool.',
  input: calculatorAgentInput,
  async run({ question }, ctx) {
    const { expressions, skipped } = extractExpressions(question);
    if (expressions.length === 0) {
      ctx.think(`I found no arithmetic in "${question}", so there is nothing to hand to the calculator.`);
      return { question, answer: 'I found no arithmetic to compute in the question.', results: [] };
    }
    const listed = expressions.map((expression) => `"${expression}"`).join(', ');
    ctx.think(
      `I read ${expressions.length} expression${expressions.length === 1 ? '' : 's'} in the question: ${listed}. ` +
        'I hand each to the calculator tool instead of doing the arithmetic myself, so every number is computed, not guessed.' +
        (skipped.length > 0
          ? ` I ignore the words with no arithmetic in them (${skipped.map((s) => `"${s}"`).join(', ')}).`
          : ''),
    );
    const results: Answer[] = [];
    for (const expression of expressions) {
      const result = await ctx.callTool('calculator', { expression });
      ctx.signal.throwIfAborted();
      const output = outputOf(result, calculatorOutput);
      if (output === undefined) {
        const error = describeFailure(result);
        ctx.think(`The calculator refused "${expression}": ${error}. I report that rather than guess a value.`);
        results.push({ expression, error });
      } else {
        results.push({ expression, result: output.result, formatted: output.formatted });
      }
    }
    const answer = results
      .map((entry) =>
        'error' in entry ? `${entry.expression} could not be computed` : `${entry.expression} = ${entry.formatted}`,
      )
      .join('; ');
    ctx.think(`All parts are computed: ${answer}.`);
    return { question, answer, results };
  },
});
