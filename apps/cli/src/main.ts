import { runCli } from './createProgram.ts';
import { readCliEnv } from './env.ts';

// The `toolrun` entry point (bin/toolrun.js registers tsx, then imports this file).

// A reader that goes away (`toolrun run … --json | head -1`) ends the command quietly; the run goes on.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const code = await runCli(process.argv.slice(2), readCliEnv(process.env, process.cwd()));
process.exitCode = code;
// Let stdout drain (a pipe is asynchronous), then make sure nothing keeps the process alive.
setTimeout(() => process.exit(code), 1_000).unref();
