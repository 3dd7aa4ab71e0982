import { describe, expect, it } from 'vitest';
import { createHostGuard, isLoopbackHost } from './hostGuard.ts';

describe('createHostGuard', () => {
  const guard = createHostGuard({ host: '127.0.0.1', allowedHosts: ['toolrun.example.com', 'intranet:8443'] });
  const status = (headers: Record<string, string>) => {
    const verdict = guard(headers);
    return verdict.ok ? 200 : verdict.status;
  };

  it('admits loopback names on any port, the configured host and allowed hosts (a name on any port, name:port on that port)', () => {
    for (const host of ['localhost', 'localhost:3000', 'LOCALHOST:1', '127.0.0.1:3000', '127.9.9.9', '[::1]:3000']) {
      expect([host, status({ host })]).toEqual([host, 200]);
    }
    expect(status({ host: 'toolrun.example.com:443' })).toBe(200);
    expect(status({ host: 'intranet:8443' })).toBe(200);
    expect(status({ host: 'intranet:8444' })).toBe(421);
  });

  it('refuses any other Host with 421, including lookalikes and smuggling attempts', () => {
    for (const host of ['evil.example.com', 'localhost.evil.com', 'evil@localhost', 'localhost/x', '', '10.0.0.1']) {
      expect([host, status({ host })]).toEqual([host, 421]);
    }
    expect(status({})).toBe(421);
  });

  it('admits no Origin and the request’s own origin; refuses foreign origins and `null` with 403', () => {
    expect(status({ host: 'localhost:3000', origin: 'http://localhost:3000' })).toBe(200);
    expect(status({ host: 'toolrun.example.com', origin: 'https://toolrun.example.com' })).toBe(200);
    for (const origin of [
      'http://evil.example',
      'null',
      'http://localhost:3001',
      'file://',
      'http://localhost:3000.evil',
    ]) {
      expect([origin, status({ host: 'localhost:3000', origin })]).toEqual([origin, 403]);
    }
  });

  it('admits allowed origins, and with `*` any Host (the Origin check stays)', () => {
    const open = createHostGuard({
      host: '0.0.0.0',
      allowedHosts: ['*'],
      allowedOrigins: ['https://console.example.com'],
    });
    expect(open({ host: 'anything.example', origin: 'https://console.example.com' }).ok).toBe(true);
    expect(open({ host: 'anything.example', origin: 'https://evil.example' }).ok).toBe(false);
  });

  it('does not take a wildcard HOST (0.0.0.0, ::) for a name', () => {
    const wildcard = createHostGuard({ host: '0.0.0.0' });
    expect(wildcard({ host: '0.0.0.0:3000' }).ok).toBe(false);
    expect(wildcard({ host: '127.0.0.1:3000' }).ok).toBe(true);
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback interface from every other', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '192.168.1.2', 'example.com', 'localhost.example.com'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
