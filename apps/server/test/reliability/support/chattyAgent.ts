import { z } from 'zod';
import type { StartServerOptions } from '../../../src/index.ts';

type Agent = NonNullable<StartServerOptions['extraAgents']>[number];

const chattyInput = z
  .object({
    thoughts: z.number().int().min(1).max(100_000).default(1_000),
    size: z.number().int().min(1).max(4_000).default(2_000),
    /** A 1 ms pause after every `burst` thoughts, so the events arrive as a stream rather than at once. */
    burst: z.number().int().min(1).max(10_000).default(100),
  })
  .strict();

/**
 * A test agent that produces a large volume of events fast: `thoughts` `agent_thinking` events of
 * `size` characters each. It is registered through the server's public `extraAgents` option, since
 * no demo agent can produce megabytes of events in a second, which is what a stuck consumer needs.
 */
export const chattyAgent: Agent = {
  name: 'chatty',
  description: 'Test agent: thinks aloud a great deal, fast.',
  input: chattyInput,
  async run(input, ctx) {
    const { thoughts, size, burst } = chattyInput.parse(input);
    for (let i = 1; i <= thoughts; i += 1) {
      ctx.signal.throwIfAborted();
      ctx.think(`thought ${i} `.padEnd(size, '.'));
      if (i % burst === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return { thoughts };
  },
};
