import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createClientErrorLog } from './clientErrorLog.ts';

function capture() {
  const lines: { level: number; msg: string; remote?: string; suppressed?: number; host?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('createClientErrorLog', () => {
  it('logs the first few per client and kind, counts the rest, and sums them up when the window ends', async () => {
    const { logger, lines } = capture();
    const registry = new Registry();
    const log = createClientErrorLog({ logger, registry, windowMs: 50, burst: 2 });
    for (let i = 0; i < 100; i += 1) log.report('bad_origin', '10.0.0.1', { origin: 'http://evil.example' });
    log.report('bad_origin', '10.0.0.2');
    log.report('bad_host', '10.0.0.1');
    expect(lines.map((l) => l.remote)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1']);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(lines.slice(4)).toEqual([expect.objectContaining({ level: 40, remote: '10.0.0.1', suppressed: 98 })]);
    expect(lines.every((l) => l.level === 40 && !JSON.stringify(l).includes('    at '))).toBe(true);
    expect(await registry.getSingleMetricAsString('toolrun_client_errors_total')).toContain(
      'toolrun_client_errors_total{kind="bad_origin"} 101',
    );
    log.close();
  });

  it('keeps a hostile value short in the log line', () => {
    const { logger, lines } = capture();
    const log = createClientErrorLog({ logger, registry: new Registry() });
    log.report('bad_host', '10.0.0.1', { host: 'x'.repeat(10_000) });
    expect((lines[0]?.host ?? '').length).toBeLessThan(300);
    log.close();
  });

  it('shares one entry per kind once it tracks as many clients as it may, so many addresses cannot grow it', () => {
    const { logger, lines } = capture();
    const log = createClientErrorLog({ logger, registry: new Registry(), maxClients: 10, burst: 1 });
    for (let i = 0; i < 1_000; i += 1) log.report('bad_token', `10.0.${Math.floor(i / 256)}.${i % 256}`);
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)?.remote).toBe('many clients');
    log.close();
    expect(lines.at(-1)).toMatchObject({ remote: 'many clients', suppressed: 989 });
  });
});
