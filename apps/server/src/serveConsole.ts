import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const NOT_BUILT_STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#eee;padding:.1rem .3rem}';
// The console's CSP allows no inline style: this page's one style element is allowed by its hash.
const NOT_BUILT_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(NOT_BUILT_STYLE).digest('base64')}'; frame-ancestors 'none'`;
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Toolrun: console not built</title>
<style>${NOT_BUILT_STYLE}</style>
</head><body>
<h1>The Toolrun console is not built</h1>
<p>The API is up at <code>/trpc</code> (see <code>/healthz</code> and <code>/metrics</code>), but there is no console to serve yet.</p>
<p>From the repository root, run <code>pnpm start</code> (it builds the console, then starts this server),
or build it once with <code>pnpm --filter @toolrun/web build</code> and reload this page.</p>
</body></html>`;

/**
 * Serves the built console (a Vite `dist` folder) at `/`: files by path, `index.html` for any other
 * GET that is not a file (client-side routes), and a readable 503 page while the folder does not exist.
 * Paths never escape the folder.
 */
export function createConsoleHandler(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const root = normalize(dir);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      res.writeHead(503, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': NOT_BUILT_CSP,
      });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT_PAGE);
      return;
    }
    const file = resolveFile(root, req.url ?? '/');
    if (file === undefined) {
      // A missing asset is a 404; anything else is a client-side route of the single-page app.
      if (extname(pathOf(req.url ?? '/')) !== '') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
        return;
      }
      send(req, res, index, 'no-cache');
      return;
    }
    const immutable = file.startsWith(join(root, 'assets') + sep);
    send(req, res, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  };
}

function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  return q === -1 ? url : url.slice(0, q);
}

function resolveFile(root: string, url: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(pathOf(url));
  } catch {
    return undefined;
  }
  if (path.includes('\0')) return undefined;
  const candidate = normalize(join(root, path));
  if (candidate !== root && !candidate.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    const stat = statSync(candidate);
    if (stat.isFile()) return candidate;
    if (stat.isDirectory()) {
      const nested = join(candidate, 'index.html');
      if (existsSync(nested)) return nested;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function send(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): void {
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const size = statSync(file).size;
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': size,
    'Cache-Control': cacheControl,
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
