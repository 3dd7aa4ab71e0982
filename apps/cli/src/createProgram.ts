import { Command, CommanderError } from 'commander';
import { CliContext, type GlobalOptions } from './CliContext.ts';
import { CliError, toCliError } from './CliError.ts';
import type { Action } from './commands/Action.ts';
import { registerAccountCommands } from './commands/registerAccountCommands.ts';
import { registerCatalogCommands } from './commands/registerCatalogCommands.ts';
import { registerFeedCommand } from './commands/registerFeedCommand.ts';
import { registerRunCommands } from './commands/registerRunCommands.ts';
import { type CliEnv, DEFAULT_URL } from './env.ts';
import { EXIT, type ExitCode } from './exitCodes.ts';
import { Output } from './Output.ts';

const EXIT_CODES_HELP = `
Exit codes:
  0    the run completed (other commands: done)
  1    unexpected error (server unreachable, server error)
  2    usage error (bad option, input that is not JSON)
  3    the run failed
  4    the run was cancelled
  5    the run was interrupted (the server stopped while it ran)
  6    refused by the server (unknown agent or run, invalid input, a limit, not allowed)
  7    not signed in, or the token was refused
  130  Ctrl-C: detached, the run goes on

Environment: TOOLRUN_URL (default ${DEFAULT_URL}), TOOLRUN_TOKEN, NO_COLOR, XDG_CONFIG_HOME.`;

/**
 * The `toolrun` command line (commander). Each command's handler returns its exit code; `onExit`
 * receives it (or the code of the error it threw, after a readable message on stderr).
 */
export function createProgram(env: CliEnv, onExit: (code: ExitCode) => void): Command {
  const program = new Command('toolrun')
    .description('Start, follow and cancel Toolrun runs from a terminal or a script')
    .option('--url <url>', `the server (env TOOLRUN_URL; default: the last one signed in to, else ${DEFAULT_URL})`)
    .option('--token <token>', 'a token to use instead of the saved one (env TOOLRUN_TOKEN)')
    .option('--json', 'one JSON object per line on stdout (events as the API sends them), nothing else')
    .showHelpAfterError('(toolrun --help lists the commands)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();

  const action: Action =
    (handler) =>
    async (...args) => {
      const command = args.at(-1);
      const globals = (command instanceof Command ? command.optsWithGlobals() : {}) as GlobalOptions;
      let ctx: CliContext | undefined;
      try {
        ctx = new CliContext(env, globals);
        onExit(await handler(ctx, ...args));
      } catch (error) {
        const failure = toCliError(error, ctx?.url ?? DEFAULT_URL);
        (ctx?.output ?? new Output(globals.json === true, env)).error(failure);
        onExit(failure.exitCode);
      }
    };

  registerAccountCommands(program, action);
  registerCatalogCommands(program, action);
  registerRunCommands(program, action);
  registerFeedCommand(program, action);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Parses `argv` (the arguments after `toolrun`) and runs the command; resolves with the exit code. */
export async function runCli(argv: string[], env: CliEnv): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = createProgram(env, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // commander has printed its message (unknown option, missing argument) or the help.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const failure = error instanceof CliError ? error : toCliError(error, DEFAULT_URL);
    new Output(false, env).error(failure);
    return failure.exitCode;
  }
  return code;
}
