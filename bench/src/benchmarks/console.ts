import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BenchContext, Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';

/** The scripts a browser loads before the console can render: the entry module and its preloads. */
export function initialScripts(indexHtml: string): string[] {
  const found: string[] = [];
  const tag = /<(script|link)\b[^>]*>/gi;
  for (const match of indexHtml.matchAll(tag)) {
    const element = match[0];
    const kind = match[1]?.toLowerCase();
    const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, 'i').exec(element)?.[1];
    const url = kind === 'script' ? attr('src') : attr('rel') === 'modulepreload' ? attr('href') : undefined;
    if (url !== undefined && /\.m?js(\?|$)/.test(url) && !/^[a-z]+:\/\//i.test(url) && !found.includes(url)) {
      found.push(url);
    }
  }
  return found;
}

/** Runs `pnpm --filter @toolrun/web build`, bounded; resolves with whether it succeeded and its last output. */
function buildConsole(ctx: BenchContext, timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['--filter', '@toolrun/web', 'build'], {
      cwd: ctx.repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, output: error.message });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve({ ok: code === 0, output });
    });
  });
}

/**
 * (8) The console's initial JavaScript, gzipped (level 9): the entry script and the module
 * preloads that `apps/web/dist/index.html` references; lazily loaded chunks are not initial.
 * Builds the console first (full runs, unless `--no-build-web`); a failed build or a missing dist is
 * reported as "not built", not as a figure.
 */
export const consoleBenchmark: Benchmark = {
  name: 'console',
  title: 'console initial JS size (gzip)',
  async run(ctx) {
    const dist = join(ctx.repoRoot, 'apps/web/dist');
    let build: { ok: boolean; output: string } | undefined;
    // A quick run measures what is there: building takes longer than the rest of it.
    if (ctx.buildWeb && !ctx.quick) {
      ctx.log('  building the console (pnpm --filter @toolrun/web build)…');
      build = await buildConsole(ctx, 180_000);
    }
    const index = join(dist, 'index.html');
    if ((build !== undefined && !build.ok) || !existsSync(index)) {
      const why = build !== undefined && !build.ok ? 'the build failed' : 'apps/web/dist/index.html does not exist';
      return {
        figures: [
          figure({
            id: 'console.initialJsGzip',
            label: 'initial JS (gzip)',
            value: null,
            unit: 'KB',
            note: `not built: ${why}`,
          }),
        ],
        details: { built: false, why, buildOutput: build?.output.split('\n').slice(-15).join('\n') ?? null },
      };
    }
    const html = readFileSync(index, 'utf8');
    const scripts = initialScripts(html);
    const files = scripts.map((url) => {
      const path = join(dist, url.replace(/^\//, '').replace(/\?.*$/, ''));
      const bytes = readFileSync(path);
      return {
        file: relative(ctx.repoRoot, path),
        bytes: bytes.length,
        gzipBytes: gzipSync(bytes, { level: 9 }).length,
      };
    });
    const gzip = files.reduce((a, f) => a + f.gzipBytes, 0);
    const rawBytes = files.reduce((a, f) => a + f.bytes, 0);
    return {
      figures: [
        figure({
          id: 'console.initialJsGzip',
          label: `initial JS (gzip -9), ${files.length} file${files.length === 1 ? '' : 's'}`,
          value: gzip / 1024,
          unit: 'KB',
          target: { op: '<=', threshold: 250, text: '≤ 250 KB' },
          ...(files.length === 0 ? { note: 'index.html references no script' } : {}),
        }),
        figure({ id: 'console.initialJsRaw', label: 'initial JS (uncompressed)', value: rawBytes / 1024, unit: 'KB' }),
      ],
      details: {
        built: true,
        builtAt: statSync(index).mtime.toISOString(),
        rebuiltByBench: build !== undefined,
        files,
      },
    };
  },
};
