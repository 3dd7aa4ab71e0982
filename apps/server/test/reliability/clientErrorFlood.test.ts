import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handMadeJwt, startTestServer } from '../helpers.ts';
import { reportFigures } from './support/figures.ts';
import { boundedLines, captureLog } from './support/logLines.ts';
import { wsExchange } from './support/rawWs.ts';

const MAX_BODY_BYTES = 16 * 1024;
const ATTEMPTS = 200;

const log = captureLog('debug');
let server: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: MAX_BODY_BYTES, logger: log.logger });
});
afterAll(async () => {
  await server.stop();
});

describe('a client that floods the server with its own mistakes', () => {
  it(`${ATTEMPTS} over-size WebSocket messages give bounded warn lines without stacks, no error lines, and a count in /metrics`, async () => {
    const before = log.lines().length;
    const startedAt = Date.now();
    const oversized = `{"id":1,"method":"query","params":{"path":"auth.me","input":"${'x'.repeat(MAX_BODY_BYTES * 2)}"}}`;
    const closeCodes: Record<string, number> = {};
    for (let i = 0; i < ATTEMPTS; i += 1) {
      const exchange = await wsExchange({ baseUrl: server.url, messages: [oversized], waitMs: 5_000 });
      closeCodes[String(exchange.closeCode)] = (closeCodes[String(exchange.closeCode)] ?? 0) + 1;
    }
    const lines = log.lines().slice(before);
    const errors = lines.filter((l) => l.level >= 50);
    const withStack = lines.filter((l) => typeof l.err?.stack === 'string' || JSON.stringify(l).includes('    at '));
    const warns = lines.filter((l) => l.level === 40);
    reportFigures('client-error-flood', {
      attempts: ATTEMPTS,
      closeCodes,
      logLines: lines.length,
      errorLines: errors.length,
      warnLines: warns.length,
      linesWithStack: withStack.length,
    });
    expect(closeCodes).toEqual({ 1009: ATTEMPTS });
    expect(errors).toEqual([]);
    expect(withStack).toEqual([]);
    // A handful per 10 s window (the first few, then one summary), however many attempts.
    expect(lines.length).toBeLessThanOrEqual(boundedLines(Date.now() - startedAt));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`toolrun_client_errors_total\\{kind="ws_message_too_large"\\} ${ATTEMPTS}\\b`));
  });

  it(`${ATTEMPTS} calls with a forged token give bounded warn lines, no error lines, and a count in /metrics`, async () => {
    const before = log.lines().length;
    const startedAt = Date.now();
    const forged = handMadeJwt(
      { sub: 'alice', roles: ['admin'] },
      { secret: 'not-the-server-secret-0123456789abcdef' },
    );
    const statuses: Record<string, number> = {};
    for (let i = 0; i < ATTEMPTS; i += 1) {
      const res = await fetch(`${server.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${forged}` } });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    const lines = log.lines().slice(before);
    expect(statuses).toEqual({ 401: ATTEMPTS });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.level === 40).length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(boundedLines(Date.now() - startedAt));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`toolrun_client_errors_total\\{kind="bad_token"\\} ${ATTEMPTS}\\b`));
  });
});
