import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Transport } from '../helpers.ts';
import { codeOf, collect, createClient, login, startTestServer, TRANSPORTS, within } from '../helpers.ts';

type Who = 'anonymous' | 'owner' | 'other' | 'admin';
const WHO: readonly Who[] = ['anonymous', 'owner', 'other', 'admin'];

/** The resources of one user that a call may aim at. */
interface Resources {
  userId: string;
  runId: string;
  threadId: string;
  /** The first event of `runId`. */
  eventId: string;
  /** An audit: run by this user when an admin, else by another admin. */
  auditId: string;
}

type Answer = [own: string, someoneElses: string];
interface Row {
  name: string;
  /** `target` is the resource aimed at (the caller's own, or someone else's); `self` is always the caller's own. */
  call: (c: Client, target: Resources, self: Resources) => Promise<unknown>;
  expected: Record<Who, Answer>;
}

let server: Awaited<ReturnType<typeof startTestServer>>;
const tokens = {} as Record<Exclude<Who, 'anonymous'>, string>;
const own = {} as Record<Who, Resources>;
const USERS = { owner: 'owner-olga', other: 'other-omar', admin: 'admin-ada' } as const;

/** "Someone else's" resource for each caller: the owner aims at the other user's, everyone else at the owner's. */
const elses = (who: Who): Resources => (who === 'owner' ? own.other : own.owner);

/** Resolves with the first message's events (or [] on completion), rejects with the subscription's error. */
function firstMessage(subscribe: Parameters<typeof collect>[0]): Promise<unknown> {
  const stream = collect(subscribe);
  // When the stream fails, its own error (not "ended before 1 event") is the answer.
  const first = stream.waitForEvents(1, 15_000).catch(() => stream.done.then(() => stream.events()));
  return within(first, 15_000, 'a subscription').finally(() => stream.unsubscribe());
}

const U: Answer = ['UNAUTHORIZED', 'UNAUTHORIZED'];
const OK: Answer = ['OK', 'OK'];
const F: Answer = ['FORBIDDEN', 'FORBIDDEN'];
const everyUser = { anonymous: U, owner: OK, other: OK, admin: OK };
const adminsOnly = { anonymous: U, owner: F, other: F, admin: OK };

// The expected answer of every cell: procedure × caller × (own resource, someone else's).
const TABLE: readonly Row[] = [
  // The development identity provider signs anyone in as anyone; external mode turns it off (authorization.test.ts).
  {
    name: 'auth.login as the target user',
    call: (c, t) => c.auth.login.mutate({ userId: t.userId }),
    expected: { anonymous: OK, owner: OK, other: OK, admin: OK },
  },
  { name: 'auth.me', call: (c) => c.auth.me.query(), expected: everyUser },
  { name: 'tools.list', call: (c) => c.tools.list.query(), expected: everyUser },
  { name: 'agents.list', call: (c) => c.agents.list.query(), expected: everyUser },
  { name: 'metrics.snapshot', call: (c) => c.metrics.snapshot.query(), expected: everyUser },
  // A thread id is only a label: a run started "in" someone else's thread is still the caller's own run.
  {
    name: 'runs.start in the target thread',
    call: (c, t) => c.runs.start.mutate({ agent: 'calculator', input: {}, threadId: t.threadId }),
    expected: everyUser,
  },
  {
    name: 'tools.run in the target thread',
    call: (c, t) => c.tools.run.mutate({ tool: 'calculator', input: { expression: '1+1' }, threadId: t.threadId }),
    expected: everyUser,
  },
  {
    name: 'runs.events of the target run',
    call: (c, t) => firstMessage((cb) => c.runs.events.subscribe({ runId: t.runId }, cb)),
    expected: { anonymous: U, owner: ['OK', 'NOT_FOUND'], other: ['OK', 'NOT_FOUND'], admin: ['OK', 'NOT_FOUND'] },
  },
  {
    name: "runs.events of one's own run resuming after the target run's event id",
    call: (c, t, self) =>
      firstMessage((cb) => c.runs.events.subscribe({ runId: self.runId, lastEventId: t.eventId }, cb)),
    expected: {
      anonymous: U,
      owner: ['OK', 'BAD_REQUEST'],
      other: ['OK', 'BAD_REQUEST'],
      admin: ['OK', 'BAD_REQUEST'],
    },
  },
  {
    name: 'runs.feed resuming after the target event id',
    call: (c, t) => firstMessage((cb) => c.runs.feed.subscribe({ lastEventId: t.eventId }, cb)),
    expected: {
      anonymous: U,
      owner: ['OK', 'BAD_REQUEST'],
      other: ['OK', 'BAD_REQUEST'],
      admin: ['OK', 'BAD_REQUEST'],
    },
  },
  {
    name: "runs.feed scope 'all' resuming after the target event id",
    call: (c, t) => firstMessage((cb) => c.runs.feed.subscribe({ scope: 'all', lastEventId: t.eventId }, cb)),
    expected: adminsOnly,
  },
  {
    name: 'runs.cancel of the target run',
    call: (c, t) => c.runs.cancel.mutate({ runId: t.runId }),
    expected: { anonymous: U, owner: ['OK', 'NOT_FOUND'], other: ['OK', 'NOT_FOUND'], admin: ['OK', 'NOT_FOUND'] },
  },
  {
    name: "runs.list of the target user's runs",
    call: (c, t) => c.runs.list.query({ limit: 10, userId: t.userId }),
    expected: { anonymous: U, owner: ['OK', 'FORBIDDEN'], other: ['OK', 'FORBIDDEN'], admin: OK },
  },
  { name: "runs.list scope 'all'", call: (c) => c.runs.list.query({ limit: 10, scope: 'all' }), expected: adminsOnly },
  { name: 'runs.list', call: (c) => c.runs.list.query(), expected: everyUser },
  {
    name: 'runs.get of the target run',
    call: (c, t) => c.runs.get.query({ runId: t.runId }),
    expected: { anonymous: U, owner: ['OK', 'NOT_FOUND'], other: ['OK', 'NOT_FOUND'], admin: OK },
  },
  {
    name: 'audit.isolation.run',
    call: (c) => c.audit.isolation.run.mutate({ users: 1, runsPerUser: 1 }),
    expected: adminsOnly,
  },
  { name: 'audit.list', call: (c) => c.audit.list.query(), expected: adminsOnly },
  { name: 'audit.get of the target audit', call: (c, t) => c.audit.get.query({ id: t.auditId }), expected: adminsOnly },
];

/** User ids of records and events in an answer that are not the caller's (the login answer names its target by design). */
function foreignUserIds(value: unknown, userId: string, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const item of value) foreignUserIds(item, userId, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'userId' && typeof item === 'string' && item !== userId) found.add(item);
      else foreignUserIds(item, userId, found);
    }
  }
  return found;
}

async function finishedRun(client: Client): Promise<{ runId: string; threadId: string }> {
  const started = await client.runs.start.mutate({ agent: 'calculator', input: {} });
  await within(collect((cb) => client.runs.events.subscribe({ runId: started.runId }, cb)).done, 20_000, 'a setup run');
  return started;
}

beforeAll(async () => {
  server = await startTestServer();
  for (const who of ['owner', 'other', 'admin'] as const)
    tokens[who] = await login(server.url, USERS[who], who === 'admin' ? 'admin' : 'user');
  const adminClient = createClient(server.url, { transport: 'sse', token: tokens.admin }).client;
  const secondAdmin = createClient(server.url, {
    transport: 'sse',
    token: await login(server.url, 'admin-bob', 'admin'),
  }).client;
  const [ownAudit, elseAudit] = [
    await adminClient.audit.isolation.run.mutate({ users: 1, runsPerUser: 1 }),
    await secondAdmin.audit.isolation.run.mutate({ users: 1, runsPerUser: 1 }),
  ];
  for (const who of ['owner', 'other', 'admin'] as const) {
    const client = createClient(server.url, { transport: 'sse', token: tokens[who] }).client;
    const run = await finishedRun(client);
    own[who] = {
      userId: USERS[who],
      ...run,
      eventId: `${run.runId}:1`,
      auditId: who === 'admin' ? ownAudit.id : elseAudit.id,
    };
  }
  own.anonymous = own.owner;
}, 60_000);
afterAll(async () => {
  await server.stop();
});

describe.each(TRANSPORTS)('authorization matrix over %s', (transport: Transport) => {
  const clients = {} as Record<Who, Client>;
  const closers: (() => void)[] = [];
  beforeAll(() => {
    for (const who of WHO) {
      const c = createClient(server.url, { transport, ...(who === 'anonymous' ? {} : { token: tokens[who] }) });
      clients[who] = c.client;
      closers.push(c.close);
    }
  });
  afterAll(() => {
    for (const close of closers) close();
  });

  it.each(TABLE)('$name', { timeout: 60_000 }, async (row) => {
    const actual = {} as Record<Who, Answer>;
    const leaks: string[] = [];
    for (const who of WHO) {
      const answers: string[] = [];
      for (const target of [own[who], elses(who)]) {
        let data: unknown;
        const code = await codeOf(row.call(clients[who], target, own[who]).then((d) => (data = d)));
        answers.push(code);
        // Whatever a non-admin is allowed to see holds none of another user's records or events.
        if (code === 'OK' && who !== 'admin' && who !== 'anonymous' && !row.name.startsWith('auth.login')) {
          for (const id of foreignUserIds(data, own[who].userId)) leaks.push(`${who} saw ${id}'s data`);
        }
      }
      actual[who] = [answers[0] ?? '', answers[1] ?? ''];
    }
    expect(actual).toEqual(row.expected);
    expect(leaks).toEqual([]);
  });

  it("does not let another user or an admin cancel someone's running run: NOT_FOUND, and the run goes on to complete", {
    timeout: 60_000,
  }, async () => {
    const { runId } = await clients.owner.runs.start.mutate({ agent: 'slow', input: { steps: 8, delayMs: 150 } });
    const stream = collect((cb) => clients.owner.runs.events.subscribe({ runId }, cb));
    expect(await codeOf(clients.other.runs.cancel.mutate({ runId }))).toBe('NOT_FOUND');
    expect(await codeOf(clients.admin.runs.cancel.mutate({ runId }))).toBe('NOT_FOUND');
    const events = (await within(stream.done, 30_000, 'the run')).flatMap((m) => m.events);
    const last = events.at(-1);
    expect(last?.type === 'agent_completed' && last.status).toBe('completed');
  });

  it("answers another user's run exactly like a run that does not exist", async () => {
    const missing = `run_${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
    for (const [call, name] of [
      [(id: string) => clients.other.runs.get.query({ runId: id }), 'runs.get'],
      [(id: string) => clients.other.runs.cancel.mutate({ runId: id }), 'runs.cancel'],
      [(id: string) => firstMessage((cb) => clients.other.runs.events.subscribe({ runId: id }, cb)), 'runs.events'],
    ] as const) {
      const someone = await call(own.owner.runId).catch((e: unknown) => e);
      const nobody = await call(missing).catch((e: unknown) => e);
      const shape = (e: unknown, id: string) =>
        JSON.stringify({ message: String((e as Error).message), data: (e as { data?: unknown }).data }).replaceAll(
          id,
          '<id>',
        );
      expect(shape(someone, own.owner.runId), name).toBe(shape(nobody, missing));
    }
  });
});
