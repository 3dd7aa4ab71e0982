import { FUNCTION_ARITY, MAX_EXPRESSION_LENGTH } from './parseExpression.ts';

/** At most this many expressions are taken from one question. */
export const MAX_EXPRESSIONS_PER_QUESTION = 10;

const KNOWN_NAMES: ReadonlySet<string> = new Set([...Object.keys(FUNCTION_ARITY), 'pi', 'e']);

// Spoken arithmetic, longest phrases first so "divided by" wins over "by".
const PHRASES: readonly [RegExp, string][] = [
  [/\bsquare root of\s+(\d+(?:\.\d+)?|\([^()]*\))/g, 'sqrt($1)'],
  [/\bto the power of\b|\braised to(?: the power of)?\b/g, '^'],
  [/\bmultiplied by\b|\btimes\b/g, '*'],
  [/\bdivided by\b|\bover\b/g, '/'],
  [/\bplus\b/g, '+'],
  [/\bminus\b/g, '-'],
  [/\bmodulo\b|\bmod\b/g, '%'],
  [/\s*\bsquared\b/g, '^2'],
  [/\s*\bcubed\b/g, '^3'],
  [/\*\*/g, '^'],
  [/×/g, '*'],
  // "3 x 4" but not the x of "max(".
  [/(?<=[\d)]\s*)x(?=\s*[\d(])/g, '*'],
  [/÷/g, '/'],
  [/[−–]/g, '-'],
];

/** Splits at `, ; ? ! newline`, a sentence-ending period and the word "and", outside parentheses only. */
function splitClauses(text: string): string[] {
  const clauses: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (char === '(') depth += 1;
    if (char === ')') depth = Math.max(0, depth - 1);
    const periodEndsSentence = char === '.' && !/\d/.test(text.charAt(i + 1));
    const andHere = /^\band\b/.test(text.slice(i)) && /\W/.test(text.charAt(i - 1) || ' ');
    if (depth === 0 && (/[,;?!\n]/.test(char) || periodEndsSentence || andHere)) {
      clauses.push(current);
      current = '';
      if (andHere) i += 2;
      continue;
    }
    current += char;
  }
  clauses.push(current);
  return clauses;
}

/**
 * Reads the arithmetic out of a question in plain English: "what is (2+3)*4 and sqrt(16)?" gives
 * `["(2+3)*4", "sqrt(16)"]`. Spoken operators ("plus", "divided by", "square root of 9") become
 * symbols; words that are not function or constant names are dropped; `skipped` lists the clauses
 * that held no arithmetic. It only finds candidates: the calculator tool decides what is valid.
 */
export function extractExpressions(question: string): { expressions: string[]; skipped: string[] } {
  let text = question.toLowerCase();
  for (const [pattern, replacement] of PHRASES) text = text.replace(pattern, replacement);
  const expressions: string[] = [];
  const skipped: string[] = [];
  for (const clause of splitClauses(text)) {
    // Every word that is not a function or constant separates one candidate from the next.
    const pieces = clause
      .replace(/[a-z_][a-z0-9_']*/g, (word) => (KNOWN_NAMES.has(word) ? word : '|'))
      .split('|')
      .map((piece) =>
        piece
          .trim()
          .replace(/^[=:]+|[=:.]+$/g, '')
          .trim(),
      )
      .filter((piece) => /\d|\bpi\b|\be\b/.test(piece));
    if (pieces.length === 0) {
      if (clause.trim().length > 0) skipped.push(clause.trim());
      continue;
    }
    for (const piece of pieces) {
      if (expressions.length < MAX_EXPRESSIONS_PER_QUESTION) expressions.push(piece.slice(0, MAX_EXPRESSION_LENGTH));
    }
  }
  return { expressions, skipped };
}
