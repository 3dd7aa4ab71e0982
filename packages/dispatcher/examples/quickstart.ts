// The README's example: run it with `pnpm --filter @toolrun/dispatcher example`.

import {
  auditIsolation,
  createDeliveryLedger,
  createDispatcherFactory,
  createEventHub,
  createInMemoryMetrics,
  createMemorySink,
  defineAgent,
  defineTool,
  type RunEvent,
  runAgent,
} from '@toolrun/dispatcher';
import { z } from 'zod';

// 1. Tools: a zod input schema, who may call them, and a run function that gets the scope's
//    frozen context and an AbortSignal, and nothing global.
const add = defineTool({
  name: 'add',
  description: 'Adds two numbers',
  input: z.object({ a: z.number(), b: z.number() }),
  output: z.object({ sum: z.number() }),
  access: 'user',
  run: ({ a, b }) => ({ sum: a + b }),
});

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks an account up, slowly',
  input: z.object({ account: z.string(), apiKey: z.string() }),
  access: 'user',
  timeoutMs: 2_000,
  sensitive: ['account'],
  run: async ({ account }, { context, signal }) => {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 10);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });
    return { account, owner: context.userId };
  },
});

// 2. An agent thinks aloud and calls tools through its run's scope, in parallel if it likes.
const accountant = defineAgent({
  name: 'accountant',
  description: 'Adds and looks up at the same time',
  input: z.object({ n: z.number() }),
  async run({ n }, ctx) {
    ctx.think(`adding ${n} and looking the account up`);
    const [sum, found] = await Promise.all([
      ctx.callTool('add', { a: n, b: 1 }),
      ctx.callTool('lookup', { account: 'acc-1', apiKey: 'sk-very-secret' }),
    ]);
    return { sum: sum.status === 'success' ? sum.output : null, lookup: found.status };
  },
});

// 3. Ports: where events go (a database in the server; memory here), live delivery, metrics.
const ledger = createDeliveryLedger();
const metrics = createInMemoryMetrics();
const hub = createEventHub({ ledger, metrics });
const sink = createMemorySink({ onWrite: (events) => hub.publish(events) });
const factory = createDispatcherFactory({ tools: [add, lookup], agents: [accountant], sink, metrics });

// 4. Alice's client subscribes to her events: it will never see anyone else's.
const subscription = hub.subscribe({ principal: { userId: 'alice', roles: ['user'] } });
const received = (async () => {
  const events: RunEvent[] = [];
  for await (const batch of subscription) {
    events.push(...batch);
    if (batch.some((event) => event.type === 'agent_completed')) break;
  }
  return events;
})();

// 5. One request, one scope, one run: five kinds of events in a guaranteed order.
{
  await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
  const last = await runAgent(scope, accountant, { n: 41 });
  console.log('run:', last.status, JSON.stringify(last.result));
}
for (const event of await received) {
  const detail = event.type === 'tool_completed' ? `${event.tool} ${event.status}` : '';
  console.log(`  ${event.seq} ${event.type} ${detail}`.trimEnd());
}
// Secrets never leave the scope: the apiKey (a secret-looking key) and account (marked sensitive).
console.log('redacted:', JSON.stringify(sink.events().find((e) => e.type === 'tool_executing' && e.tool === 'lookup')));

// 6. A failing call is an event and a result, never an exception.
{
  await using scope = factory.forRequest(factory.createContext({ userId: 'bob' }));
  const result = await scope.execute('add', { a: 'one', b: 2 });
  console.log('bob:', result.status, result.status === 'success' ? '' : result.error.code);
}

// 7. What happened, as plain JSON.
const audit = auditIsolation({ factory, ledger });
console.log('isolation passed:', audit.passed, '| live scopes:', factory.liveScopes());
console.log('executions:', JSON.stringify(metrics.snapshot().executions));
