import { HttpAgent } from '@ag-ui/client';

const base = process.env.TOOLRUN_URL ?? 'http://127.0.0.1:3000';
// Sign in with the development identity provider (a plain tRPC mutation over HTTP).
const login = await fetch(`${base}/trpc/auth.login`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ userId: 'alice' }),
});
const { token } = ((await login.json()) as { result: { data: { token: string } } }).result.data;

const agent = new HttpAgent({ url: `${base}/agui/calculator`, headers: { Authorization: `Bearer ${token}` } });
agent.addMessage({ id: 'question-1', role: 'user', content: 'What is (2+3)*4 and sqrt(16)?' });
const { result } = await agent.runAgent({}, { onEvent: ({ event }) => console.log(event.type) });
console.log(result.answer);
