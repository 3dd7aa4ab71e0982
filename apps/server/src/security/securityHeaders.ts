import type { ServerResponse } from 'node:http';

/**
 * The policy of every response but the console's: an API answer is data, never a document, so it
 * may load nothing and be framed by nobody.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The console's policy: only its own scripts, styles and connections (Vite emits no inline script
 * or style; uPlot and React set styles through the CSSOM, which `style-src` does not govern), the
 * inline SVG favicon as a `data:` image, no plugins, no framing. `connect-src 'self'` covers the
 * same-origin `ws:`/`wss:` WebSocket too.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Sets the security headers on a response before anything else writes to it: the strict API policy,
 * no MIME sniffing, no referrer, no framing (`X-Frame-Options` for browsers that predate
 * `frame-ancestors`), and a browsing context of its own. The console's handler swaps in
 * {@link CONSOLE_CSP}; every other route (including ones added later) keeps the strict one.
 */
export function setSecurityHeaders(res: ServerResponse, policy: 'api' | 'console' = 'api'): void {
  res.setHeader('Content-Security-Policy', policy === 'console' ? CONSOLE_CSP : API_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
