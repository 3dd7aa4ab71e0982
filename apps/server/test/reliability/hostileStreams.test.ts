import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, createClient, login, startTestServer, within } from '../helpers.ts';
import { reportFigures } from './support/figures.ts';
import type { ErrorShape, ProcedureInfo } from './support/hostile.ts';
import {
  allProcedures,
  errorProblems,
  hostileBody,
  hostileInput,
  hostileValue,
  oddString,
  shortOddString,
} from './support/hostile.ts';
import { reliabilityParams } from './support/params.ts';
import { rawCall } from './support/rawCall.ts';
import type { WsExchange } from './support/rawWs.ts';
import { wsExchange } from './support/rawWs.ts';

const params = reliabilityParams();
const MAX_BODY_BYTES = 64 * 1024;
const PROCEDURES = allProcedures();
const SUBSCRIPTIONS = PROCEDURES.filter((p) => p.type === 'subscription');

let server: Awaited<ReturnType<typeof startTestServer>>;
let token = '';
let runId = '';
const tried = { sse: 0, ws: 0, wsClosedByServer: 0 };
const wsCloseCodes: Record<string, number> = {};
const wsErrorCodes: Record<string, number> = {};
const sseErrorCodes: Record<string, number> = {};
const count = (into: Record<string, number>, key: unknown) => {
  into[String(key)] = (into[String(key)] ?? 0) + 1;
};

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: MAX_BODY_BYTES });
  token = await login(server.url, 'stream-fuzzer');
  const { client } = createClient(server.url, { transport: 'sse', token });
  ({ runId } = await client.runs.start.mutate({ agent: 'calculator', input: {} }));
  await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 20_000, 'the fuzzer’s run');
});
afterAll(async () => {
  reportFigures(`hostile-streams${params.soak ? '-soak' : ''}`, {
    seed: params.seed,
    ...tried,
    sseErrorCodes,
    wsErrorCodes,
    wsCloseCodes,
  });
  await server.stop();
});

/** A connectionParams value: the real token, none, or something hostile. */
const connectionParams = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { arbitrary: fc.constant(JSON.stringify({ token })), weight: 4 },
    fc.constant(undefined),
    hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
    hostileValue.map((v) => JSON.stringify({ token: v })),
    fc.string({ maxLength: 50 }),
  );

/** A lastEventId: a real one, one of another shape, or odd text. */
const lastEventId = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.constant(`${runId}:1`),
    fc.integer({ min: -5, max: 2 ** 53 }).map((n) => `${runId}:${n}`),
    oddString.map((s) => `${s}:${s}`),
    oddString,
  );

describe('hostile input over SSE', () => {
  it.each(SUBSCRIPTIONS)(
    '$path: hostile input, connection params and lastEventId (query and Last-Event-ID header) get readable 4xx errors, never a 500 or a stack',
    {
      timeout: 60_000 + params.fuzzRuns * 1_000,
    },
    async (procedure: ProcedureInfo) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            hostileBody,
            fc.constant(JSON.stringify({ runId })),
            hostileInput.map((v) => JSON.stringify({ runId, extra: v })),
          ),
          connectionParams(),
          lastEventId(),
          fc.boolean(),
          async (body, params, eventId, asHeader) => {
            const query: Record<string, string> = {};
            if (params !== undefined) query.connectionParams = params;
            const headers: Record<string, string> = {};
            // Header values must be Latin-1 without line breaks; the query parameter takes anything.
            if (eventId !== undefined && asHeader && /^[\x20-\x7e]*$/.test(eventId)) headers['last-event-id'] = eventId;
            else if (eventId !== undefined) query.lastEventId = eventId;
            const answer = await rawCall({ baseUrl: server.url, procedure, body, query, headers });
            tried.sse += 1;
            const problems = errorProblems(answer.text, undefined);
            if (answer.status >= 500) problems.push(`status ${answer.status}`);
            for (const error of answer.errors) {
              count(sseErrorCodes, error.data?.code ?? answer.status);
              problems.push(...errorProblems(JSON.stringify(error), error));
            }
            expect(problems).toEqual([]);
          },
        ),
        { numRuns: params.fuzzRuns, seed: params.seed },
      );
    },
  );
});

/** Messages a hostile WebSocket client sends: malformed JSON, wrong shapes, odd ids and paths, batches, binary. */
function wsMessage(): fc.Arbitrary<string | Buffer> {
  const request = fc.record(
    {
      id: fc.oneof(fc.integer(), oddString, hostileValue),
      jsonrpc: fc.oneof(fc.constant('2.0'), hostileValue),
      method: fc.oneof(
        fc.constantFrom('query', 'mutation', 'subscription', 'subscription.stop', 'connectionParams'),
        shortOddString,
      ),
      params: fc.record(
        {
          // Short: an echoed long path is a known defect with its own test below, and would stop the search here.
          path: fc.oneof(fc.constantFrom(...PROCEDURES.map((p) => p.path)), shortOddString),
          input: fc.oneof(hostileInput, fc.constant({ runId })),
          lastEventId: fc.oneof(fc.constant(`${runId}:1`), hostileValue),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  // Well formed but for the input, so most messages reach the procedures' own validation.
  const wellFormed = fc
    .tuple(
      fc.integer({ min: 1, max: 1_000 }),
      fc.constantFrom(...PROCEDURES),
      fc.oneof(hostileInput, fc.constant({ runId })),
    )
    .map(([id, procedure, input]) =>
      JSON.stringify({ id, method: procedure.type, params: { path: procedure.path, input } }),
    );
  return fc.oneof(
    { arbitrary: wellFormed, weight: 4 },
    request.map((r) => JSON.stringify(r)),
    fc.array(request, { maxLength: 4 }).map((r) => JSON.stringify(r)),
    hostileBody,
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  );
}

function wsProblems(exchange: WsExchange): string[] {
  const problems = exchange.raw.flatMap((raw) => errorProblems(raw, undefined));
  for (const message of exchange.messages) {
    if (message === null || typeof message !== 'object' || !('error' in message)) continue;
    const error = (message as { error: ErrorShape }).error;
    count(wsErrorCodes, error.data?.code);
    problems.push(...errorProblems(JSON.stringify(error), error));
  }
  // The server may close a connection that breaks the protocol, but never as an internal error (1011).
  if (exchange.closeCode === 1011) problems.push('closed with 1011 (internal error)');
  if (exchange.closeCode === undefined && !exchange.sentinelAnswered) problems.push('the connection stopped answering');
  return problems;
}

describe('hostile input over WebSocket', () => {
  it('malformed JSON, wrong shapes, odd ids, paths and connection params, batches and binary frames get readable errors, never an internal error; the connection keeps answering or is closed cleanly', {
    timeout: 60_000 + params.fuzzRuns * 2_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(
          fc.oneof(
            { arbitrary: fc.constant(JSON.stringify({ method: 'connectionParams', data: { token } })), weight: 4 },
            hostileValue.map((v) => JSON.stringify({ method: 'connectionParams', data: v })),
            hostileBody,
          ),
          { nil: undefined },
        ),
        fc.array(wsMessage(), { minLength: 1, maxLength: 4 }),
        async (params, messages) => {
          const exchange = await wsExchange({ baseUrl: server.url, connectionParams: params, messages });
          tried.ws += 1;
          if (exchange.closeCode !== undefined) {
            tried.wsClosedByServer += 1;
            count(wsCloseCodes, exchange.closeCode);
          }
          expect(wsProblems(exchange)).toEqual([]);
        },
      ),
      { numRuns: params.fuzzRuns * 4, seed: params.seed },
    );
  });

  it('keeps error messages short however long the input echoed in them (a 10,000-character procedure path)', async () => {
    const exchange = await wsExchange({
      baseUrl: server.url,
      messages: [JSON.stringify({ id: 1, method: 'query', params: { path: 'x'.repeat(10_000), input: {} } })],
    });
    expect(wsProblems(exchange)).toEqual([]);
    expect(Math.max(...exchange.raw.map((r) => r.length))).toBeLessThan(4_096);
  });

  it('closes a connection whose message is over the size limit (1009), and takes new connections after it', async () => {
    const exchange = await wsExchange({
      baseUrl: server.url,
      messages: [`{"id":1,"method":"query","params":{"path":"auth.me","input":"${'x'.repeat(MAX_BODY_BYTES * 2)}"}}`],
    });
    expect(exchange.closeCode).toBe(1009);
    const next = await wsExchange({ baseUrl: server.url, messages: [] });
    expect(next.sentinelAnswered).toBe(true);
  });

  it('is still up and correct afterwards over both transports', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    for (const transport of ['sse', 'ws'] as const) {
      const c = createClient(server.url, { transport, token });
      const started = await c.client.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 6*7?' } });
      const done = await within(
        collect((cb) => c.client.runs.events.subscribe({ runId: started.runId }, cb)).done,
        20_000,
        'a run after fuzzing',
      );
      const last = done.flatMap((m) => m.events).at(-1);
      expect(last?.type === 'agent_completed' && last.status).toBe('completed');
      c.close();
    }
  });
});
