import type { AppRouter } from '@toolrun/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';

const url = `${process.env.TOOLRUN_URL ?? 'http://127.0.0.1:3000'}/trpc`;
const anonymous = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url })] });
const { token } = await anonymous.auth.login.mutate({ userId: 'alice' });
const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url, EventSource, connectionParams: { token } }),
      false: httpBatchLink({ url, headers: { authorization: `Bearer ${token}` } }),
    }),
  ],
});

// payout's transfer_funds waits for the run owner's approval, inside the five events.
const { runId } = await trpc.runs.start.mutate({ agent: 'payout', input: { amount: 10, to: 'bob' } });
await new Promise<void>((resolve, reject) => {
  trpc.runs.events.subscribe(
    { runId },
    {
      onData: ({ data: events }) => {
        for (const event of events) {
          if (event.type === 'agent_thinking' && event.approval?.state === 'requested') {
            // Any of alice's clients may decide it (another tab, another device): the first decision wins.
            const { id, tool, input } = event.approval;
            console.log(`approving ${tool} ${JSON.stringify(input)}`);
            trpc.approvals.decide.mutate({ approvalId: id, decision: 'approve' }).catch(reject);
          }
          if (event.type === 'tool_completed') console.log(`${event.tool}: ${event.status}`);
        }
      },
      onComplete: () => resolve(),
      onError: reject,
    },
  );
});
const { items } = await trpc.approvals.list.query({ runId });
console.log(items.map((a) => `${a.tool} ${a.status} by ${a.decidedBy}`).join('\n'));
