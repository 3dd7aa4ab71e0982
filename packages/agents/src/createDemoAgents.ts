import type { AnyAgent } from '@toolrun/dispatcher';
import { adminAgent } from './agents/admin.ts';
import { calculatorAgent } from './agents/calculator.ts';
import { delegateAgent } from './agents/delegate.ts';
import { flakyAgent } from './agents/flaky.ts';
import { parallelAgent } from './agents/parallel.ts';
import { payoutAgent } from './agents/payout.ts';
import { researchAgent } from './agents/research.ts';
import { slowAgent } from './agents/slow.ts';

/** The names of the demo agents, in the order {@link createDemoAgents} returns them. */
export const DEMO_AGENT_NAMES = [
  'research',
  'calculator',
  'delegate',
  'parallel',
  'flaky',
  'slow',
  'admin',
  'payout',
] as const;

/**
 * The deterministic demo agents (no model, no network): `research`, `calculator`, `delegate`,
 * `parallel`, `flaky`, `slow`, `admin` (admin only) and `payout` (its transfer waits for the owner's approval). They call the tools of `createBuiltinTools`,
 * by name; `delegate` runs `research` and `calculator` as sub-agents, so register them together.
 * Every field of their inputs has a default, so `{}` starts each of them.
 */
export function createDemoAgents(): AnyAgent[] {
  return [researchAgent, calculatorAgent, delegateAgent, parallelAgent, flakyAgent, slowAgent, adminAgent, payoutAgent];
}
