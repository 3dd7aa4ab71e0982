import type { RouterInputs } from '@toolrun/api';
import type { Random } from './random.ts';

/** A run to start: a demo agent and an input it accepts. */
export interface PlannedRun {
  agent: string;
  input: NonNullable<RouterInputs['runs']['start']['input']>;
}

const QUESTIONS = [
  'What is (2+3)*4 and sqrt(16)?',
  'what is 10 divided by 4',
  '2^10 plus 1',
  'what is 1/0 and 2 plus 2?',
];
const TOPICS = ['events', 'isolation', 'circuit breaker', 'resume', 'cancel'];

/**
 * A random run of one of the demo agents of `@toolrun/agents`, with small random inputs so a run
 * takes from a few milliseconds to about two seconds: `research`, `calculator`, `delegate` (sub-agents),
 * `parallel`, `flaky`, `slow`, and `admin` for admins. Every input is valid for its agent.
 */
export function planDemoRun(rng: Random, opts: { admin: boolean }): PlannedRun {
  const agents = opts.admin
    ? (['research', 'calculator', 'delegate', 'parallel', 'flaky', 'slow', 'admin'] as const)
    : (['research', 'calculator', 'delegate', 'parallel', 'flaky', 'slow'] as const);
  // Slow runs twice as often: they keep streams live while their events are produced.
  const agent = rng.chance(0.25) ? 'slow' : rng.pick(agents);
  switch (agent) {
    case 'research':
      return { agent, input: { maxSources: rng.int(1, 5), saveNote: rng.chance(0.5) } };
    case 'calculator':
      return { agent, input: { question: rng.pick(QUESTIONS) } };
    case 'delegate':
      return {
        agent,
        input: {
          question: `${rng.pick(TOPICS)}: ${rng.pick(QUESTIONS)}`,
          maxSources: rng.int(1, 5),
          saveNote: rng.chance(0.5),
        },
      };
    case 'parallel':
      return {
        agent,
        input: {
          topics: TOPICS.slice(0, rng.int(1, 4)),
          expressions: ['2^10', '7*6'].slice(0, rng.int(0, 2)),
          slowSteps: rng.int(0, 3),
        },
      };
    case 'flaky':
      return { agent, input: { calls: rng.int(1, 8), failureRate: rng.int(0, 10) / 10, seed: rng.int(0, 1_000_000) } };
    case 'slow':
      return { agent, input: { steps: rng.int(2, 8), delayMs: rng.int(20, 250) } };
    case 'admin':
      return { agent, input: {} };
    default: {
      const unreachable: never = agent;
      throw new Error(`unknown agent ${String(unreachable)}`);
    }
  }
}
