import type { AppRouter } from '@toolrun/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';

const url = `${process.env.TOOLRUN_URL ?? 'http://127.0.0.1:3000'}/trpc`;

// 1. Sign in with the development identity provider (TOOLRUN_AUTH_MODE=dev, the default).
const anonymous = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url })] });
const { token } = await anonymous.auth.login.mutate({ userId: 'alice' });

// 2. The typed client: queries and mutations over HTTP, subscriptions over SSE.
const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url, EventSource, connectionParams: { token } }),
      false: httpBatchLink({ url, headers: { authorization: `Bearer ${token}` } }),
    }),
  ],
});

// 3. Start a run with an idempotency key (one per start): if the answer is lost, send the same start
//    again with the same key and you get the same run, never a second one. At your concurrent-run
//    limit the run waits in your queue (`queued.position`) and starts when a slot frees.
const start = { agent: 'calculator', input: { question: 'What is (2+3)*4?' }, idempotencyKey: crypto.randomUUID() };
const { runId, queued } = await trpc.runs.start.mutate(start).catch(() => trpc.runs.start.mutate(start));
if (queued) console.log(`queued at position ${queued.position}`);

// 4. Follow its events until agent_completed (each message holds one or more events).
await new Promise<void>((resolve, reject) => {
  trpc.runs.events.subscribe(
    { runId },
    {
      onData: ({ id, data: events }) => {
        for (const event of events) console.log(event.seq, event.type);
        console.log(`resume point: ${id}`);
      },
      onComplete: () => resolve(),
      onError: reject,
    },
  );
});
const { run } = await trpc.runs.get.query({ runId });
console.log(run.status, JSON.stringify(run.result));
