import type { IncomingHttpHeaders } from 'node:http';

/** Options of {@link createHostGuard}. */
export interface HostGuardOptions {
  /** The interface the server listens on (`HOST`); a name or address other than a wildcard is allowed too. */
  host: string;
  /**
   * More `Host` names for a public deployment (`TOOLRUN_ALLOWED_HOSTS`): `name` (any port),
   * `name:port` (that port only), `[v6]`; `*` turns the `Host` check off (only behind a proxy that checks it).
   */
  allowedHosts?: readonly string[];
  /** More origins that may call the server from a browser (`TOOLRUN_ALLOWED_ORIGINS`): `https://console.example.com`. */
  allowedOrigins?: readonly string[];
}

/** What the guard decided about one request or upgrade. */
export type HostGuardVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly status: 421 | 403;
      readonly kind: 'bad_host' | 'bad_origin';
      readonly value: string;
    };

const OK: HostGuardVerdict = { ok: true };
// A Host header is a name or an address, with an optional port: nothing else (no user info, no path).
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)(?::(\d{1,5}))?$/;
const WILDCARDS = new Set(['0.0.0.0', '[::]', '[::0]', '*']);

/**
 * The one Host/Origin check in front of every HTTP request, SSE stream and WebSocket upgrade, on
 * every path. A `Host` must name the loopback interface (`localhost`, `127.x.x.x`, `[::1]`), the
 * configured `HOST` or an allowed host, on any port: DNS rebinding reaches the server under the
 * attacker's name, which is never one of these, while port forwarding and proxies change only the
 * port. An `Origin`, when the browser sends one, must be the request's own origin (same host and
 * port) or an allowed origin; `Origin: null` (sandboxed frames, `file:` pages) is refused. Anything
 * else is `421` (bad `Host`) or `403` (bad `Origin`).
 *
 * @example
 * const guard = createHostGuard({ host: '127.0.0.1' });
 * guard({ host: 'evil.example:3000' }); // { ok: false, status: 421, kind: 'bad_host', … }
 */
export function createHostGuard(opts: HostGuardOptions): (headers: IncomingHttpHeaders) => HostGuardVerdict {
  const anyHost = (opts.allowedHosts ?? []).includes('*');
  const names = new Set<string>(['localhost']);
  const hostPorts = new Set<string>();
  const configured = parseHost(bracketed(opts.host));
  if (configured !== undefined && !WILDCARDS.has(configured.name)) names.add(configured.name);
  for (const entry of opts.allowedHosts ?? []) {
    const parsed = parseHost(bracketed(entry));
    if (parsed === undefined) continue;
    if (parsed.port === undefined) names.add(parsed.name);
    else hostPorts.add(`${parsed.name}:${parsed.port}`);
  }
  const origins = new Set((opts.allowedOrigins ?? []).flatMap((o) => originOf(o) ?? []));

  return (headers) => {
    const hostHeader = headers.host ?? '';
    const host = parseHost(hostHeader);
    if (!anyHost) {
      const allowed =
        host !== undefined &&
        (names.has(host.name) ||
          isLoopbackAddress(host.name) ||
          (host.port !== undefined && hostPorts.has(`${host.name}:${host.port}`)));
      if (!allowed) return { ok: false, status: 421, kind: 'bad_host', value: hostHeader };
    }
    const origin = headers.origin;
    if (origin === undefined) return OK;
    const parsed = originOf(origin);
    if (parsed !== undefined && (origins.has(parsed) || (host !== undefined && sameOrigin(parsed, host)))) return OK;
    return { ok: false, status: 403, kind: 'bad_origin', value: origin };
  };
}

/** Whether `host` (a `HOST` value) is the loopback interface, where the development identity provider may serve. */
export function isLoopbackHost(host: string): boolean {
  const parsed = parseHost(bracketed(host));
  return parsed !== undefined && (parsed.name === 'localhost' || isLoopbackAddress(parsed.name));
}

function isLoopbackAddress(name: string): boolean {
  return name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** `::1` → `[::1]`: a bare IPv6 address as a Host header writes it. */
function bracketed(host: string): string {
  const trimmed = host.trim();
  return trimmed.includes(':') && !trimmed.startsWith('[') && trimmed.split(':').length > 2 ? `[${trimmed}]` : trimmed;
}

function parseHost(value: string): { name: string; port: string | undefined } | undefined {
  const match = HOST_HEADER.exec(value.toLowerCase());
  if (match === null) return undefined;
  const name = (match[1] ?? '').replace(/\.$/, '');
  if (name === '') return undefined;
  return { name, port: match[2] };
}

/** `scheme://host[:port]` of an http(s) origin, default ports omitted; undefined for `null` and anything else. */
function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

function sameOrigin(origin: string, host: { name: string; port: string | undefined }): boolean {
  const url = new URL(origin);
  if (url.hostname.replace(/\.$/, '') !== host.name) return false;
  const originPort = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  // A Host without a port came through the scheme's default port, whichever scheme a proxy in front ended.
  return host.port === undefined ? originPort === '80' || originPort === '443' : host.port === originPort;
}
