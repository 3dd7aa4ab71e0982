import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, createClient, login, startTestServer, within } from '../helpers.ts';
import { reportFigures } from './support/figures.ts';
import type { ProcedureInfo } from './support/hostile.ts';
import { allProcedures, deeplyNested, errorProblems, hostileBody, protoPollutionText } from './support/hostile.ts';
import { reliabilityParams } from './support/params.ts';
import type { RawAnswer } from './support/rawCall.ts';
import { rawCall } from './support/rawCall.ts';

const params = reliabilityParams();
const MAX_BODY_BYTES = 256 * 1024;
const PROCEDURES = allProcedures();
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

let server: Awaited<ReturnType<typeof startTestServer>>;
const tokens: Record<'anonymous' | 'user' | 'admin', string | undefined> = {
  anonymous: undefined,
  user: '',
  admin: '',
};
const userToken = () => tokens.user ?? '';
let tried = 0;
const statuses: Record<number, number> = {};

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: MAX_BODY_BYTES });
  tokens.user = await login(server.url, 'fuzzy-fred');
  tokens.admin = await login(server.url, 'fuzzy-admin', 'admin');
});
afterAll(async () => {
  reportFigures(`hostile-http${params.soak ? '-soak' : ''}`, {
    seed: params.seed,
    procedures: PROCEDURES.length,
    inputsTried: tried,
    statuses,
  });
  await server.stop();
});

/** Everything wrong with an answer to hostile input: a 5xx, a stack, an unreadable error. */
function problems(answer: RawAnswer): string[] {
  tried += 1;
  statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
  const out = errorProblems(answer.text, undefined);
  if (answer.status >= 500) out.push(`status ${answer.status}: ${answer.text.slice(0, 200)}`);
  if (answer.status >= 400 && answer.text !== '' && answer.errors.length === 0)
    out.push(`a ${answer.status} without an error`);
  for (const error of answer.errors) out.push(...errorProblems(JSON.stringify(error), error));
  return out;
}

describe('hostile input over HTTP', () => {
  it('fuzzes every procedure of the router', () => {
    expect(PROCEDURES.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'auth.login',
        'auth.me',
        'tools.list',
        'agents.list',
        'runs.start',
        'runs.events',
        'runs.feed',
        'runs.cancel',
        'runs.list',
        'runs.get',
        'audit.isolation.run',
        'audit.list',
        'audit.get',
        'metrics.snapshot',
      ]),
    );
  });

  it.each(PROCEDURES)(
    '$path ($type): wrong types, huge and deeply nested values, odd unicode, prototype keys and malformed JSON get a readable 4xx, never a 500 or a stack',
    {
      timeout: 60_000 + params.fuzzRuns * 1_000,
    },
    async (procedure: ProcedureInfo) => {
      await fc.assert(
        fc.asyncProperty(
          hostileBody,
          fc.constantFrom('anonymous' as const, 'user' as const, 'admin' as const),
          fc.boolean(),
          async (body, who, batch) => {
            const answer = await rawCall({ baseUrl: server.url, procedure, body, token: tokens[who], batch });
            expect(problems(answer)).toEqual([]);
          },
        ),
        { numRuns: params.fuzzRuns, seed: params.seed },
      );
    },
  );

  it('answers bodies over the size limit with 413 and a readable message, whatever their shape', async () => {
    const start = PROCEDURES.find((p) => p.path === 'runs.start') as ProcedureInfo;
    for (const body of [
      JSON.stringify({ agent: 'calculator', input: { question: 'x'.repeat(MAX_BODY_BYTES) } }),
      deeplyNested(MAX_BODY_BYTES, 'array'),
      `{"agent":"${'\u{1f4a9}'.repeat(MAX_BODY_BYTES / 2)}"}`,
    ]) {
      const answer = await rawCall({ baseUrl: server.url, procedure: start, body, token: tokens.user });
      expect(answer.status).toBe(413);
      expect(problems(answer)).toEqual([]);
    }
  });

  it('answers odd methods, content types, paths and URL encodings with 4xx', async () => {
    const get = PROCEDURES.find((p) => p.path === 'runs.get') as ProcedureInfo;
    const start = PROCEDURES.find((p) => p.path === 'runs.start') as ProcedureInfo;
    const answers = [
      await rawCall({ baseUrl: server.url, procedure: get, body: '{}', token: tokens.user, method: 'POST' }),
      await rawCall({ baseUrl: server.url, procedure: start, body: '{}', token: tokens.user, method: 'GET' }),
      await rawCall({ baseUrl: server.url, procedure: start, body: '{}', token: tokens.user, method: 'PUT' }),
      await rawCall({ baseUrl: server.url, procedure: start, body: '{}', token: tokens.user, method: 'DELETE' }),
      await rawCall({
        baseUrl: server.url,
        procedure: start,
        body: 'agent=x',
        token: tokens.user,
        contentType: 'application/x-www-form-urlencoded',
      }),
      await rawCall({
        baseUrl: server.url,
        procedure: start,
        body: '<a/>',
        token: tokens.user,
        contentType: 'text/xml',
      }),
    ];
    // Paths that name no procedure, or a prototype's key.
    for (const path of ['runs.nope', '%E0%A4%A', 'runs.get,runs.list', '__proto__', 'constructor']) {
      answers.push(
        await rawCall({ baseUrl: server.url, procedure: { path, type: 'query' }, body: '{}', token: tokens.user }),
      );
    }
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(problems(answer)).toEqual([]);
    }
    const badEncoding = await fetch(`${server.url}/trpc/runs.get?input=%ZZ`, {
      headers: { authorization: `Bearer ${tokens.user}` },
    });
    expect(badEncoding.status).toBeLessThan(500);
    const token = await fetch(`${server.url}/trpc/auth.me`, {
      headers: { authorization: `Bearer ${'x'.repeat(10_000)}` },
    });
    expect(token.status).toBe(401);
  });

  it('keeps error answers short however long the input echoed in them (a 10,000-character procedure path)', async () => {
    const answer = await rawCall({
      baseUrl: server.url,
      procedure: { path: 'x'.repeat(10_000), type: 'query' },
      body: '{}',
      token: tokens.user,
    });
    expect(answer.status).toBe(404);
    expect(problems(answer)).toEqual([]);
    expect(answer.text.length).toBeLessThan(4_096);
  });

  it('never lets a __proto__ or constructor key change a prototype in the server process', async () => {
    await fc.assert(
      fc.asyncProperty(protoPollutionText, fc.constantFrom(...PROCEDURES), async (body, procedure) => {
        await rawCall({ baseUrl: server.url, procedure, body, token: tokens.admin });
        tried += 1;
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: params.fuzzRuns, seed: params.seed },
    );
  });

  it('is still up and correct afterwards: healthy, and a run goes from start to agent_completed', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const { client } = createClient(server.url, { transport: 'sse', token: userToken() });
    const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 6*7?' } });
    const messages = await within(
      collect((cb) => client.runs.events.subscribe({ runId }, cb)).done,
      20_000,
      'a run after fuzzing',
    );
    const events = messages.flatMap((m) => m.events);
    const last = events.at(-1);
    expect(last?.type === 'agent_completed' && last.status).toBe('completed');
    expect(JSON.stringify(last)).toContain('42');
  });
});
