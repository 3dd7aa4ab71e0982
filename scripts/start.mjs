// `pnpm start`: builds the console (quietly: turbo's output only when the build fails), then runs the
// server in the foreground with this terminal as its stdout, so its logs are readable lines here
// and JSON when redirected. Exits with the server's exit code.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };

const build = spawnSync(
  process.execPath,
  [
    fileURLToPath(new URL('../node_modules/turbo/bin/turbo', import.meta.url)),
    'run',
    'build',
    '--filter=@toolrun/web',
    '--output-logs=errors-only',
  ],
  { cwd: root, env, encoding: 'utf8' },
);
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
  process.stderr.write(`toolrun: building the console failed (exit ${build.status ?? build.signal})\n`);
  process.exit(build.status ?? 1);
}

// The server's Node flags: apps/server/src/nodeFlags.ts (why), kept in step by its test.
const server = spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', 'src/main.ts'], {
  cwd: fileURLToPath(new URL('../apps/server/', import.meta.url)),
  env,
  stdio: 'inherit',
});
// Ctrl-C reaches the server directly (same terminal process group); a SIGTERM sent to this process
// is passed on. Either way we wait for the server's graceful shutdown and exit with its code.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => server.kill('SIGTERM'));
server.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
