import { type Command, Option } from 'commander';
import type { Colors } from 'picocolors/types';
import { CliError } from '../CliError.ts';
import { EXIT } from '../exitCodes.ts';
import { parseRunInput } from '../parseRunInput.ts';
import { formatDuration } from '../Timeline.ts';
import { ON_INTERRUPT, type OnInterrupt, watchRun } from '../watchRun.ts';
import type { Action } from './Action.ts';

const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;

const onInterruptOption = () =>
  new Option(
    '--on-interrupt <what>',
    'what Ctrl-C (SIGINT) and SIGTERM do: ask (on a terminal; elsewhere it detaches), cancel the run, or detach from it',
  )
    .choices(ON_INTERRUPT)
    .default('ask');

/** `toolrun run`, `follow`, `cancel`, `runs`. */
export function registerRunCommands(program: Command, action: Action): void {
  program
    .command('run')
    .argument('<agent>', 'the agent to start (see: toolrun agents)')
    .argument(
      '[input...]',
      "the input: one JSON argument, or key=value pairs (a.b=1 nests); none: the agent's defaults",
    )
    .description('Start a run and follow it live to its end; the exit code says how it ended')
    .option('--input-file <file>', 'read the input JSON from a file (- for stdin)')
    .option('--thread <id>', 'run in this thread (default: a new one)')
    .option(
      '--idempotency-key <key>',
      'start at most once: a repeat with the same key (after a lost answer, in a retrying script) gets the same run back',
    )
    .option('--detach', 'start the run, print its id and exit 0 without following it')
    .addOption(onInterruptOption())
    .action(
      action(
        async (
          ctx,
          agent: string,
          args: string[],
          opts: {
            inputFile?: string;
            thread?: string;
            idempotencyKey?: string;
            detach?: boolean;
            onInterrupt: OnInterrupt;
          },
        ) => {
          const input = parseRunInput({ args, inputFile: opts.inputFile, cwd: ctx.env.cwd });
          const client = await ctx.client();
          const started = await client.runs.start.mutate({
            agent,
            input,
            ...(opts.thread === undefined ? {} : { threadId: opts.thread }),
            ...(opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey }),
          });
          if (opts.detach === true) {
            ctx.output.record(started);
            ctx.output.line(started.runId);
            ctx.output.note(`follow it: ${ctx.command(`follow ${started.runId}`)}`);
            return EXIT.ok;
          }
          return watchRun(ctx, { runId: started.runId, onInterrupt: opts.onInterrupt });
        },
      ),
    );

  program
    .command('follow')
    .argument('<runId>', 'the run to follow')
    .description("Follow a run's events to its end (from the start, or after --from); the exit code says how it ended")
    .option('--from <eventId>', 'only the events after this one (the id printed when you detached)')
    .addOption(onInterruptOption())
    .action(
      action(async (ctx, runId: string, opts: { from?: string; onInterrupt: OnInterrupt }) => {
        return watchRun(ctx, { runId, lastEventId: opts.from, onInterrupt: opts.onInterrupt });
      }),
    );

  program
    .command('cancel')
    .argument('<runId>', 'the run to cancel')
    .description('Cancel a run; it still ends with its events (follow it to see them)')
    .action(
      action(async (ctx, runId: string) => {
        const result = await (await ctx.client()).runs.cancel.mutate({ runId });
        ctx.output.record(result);
        ctx.output.line(
          result.cancelled ? `cancelling run ${runId}` : `run ${runId} had already ended; nothing to cancel`,
        );
        return EXIT.ok;
      }),
    );

  program
    .command('runs')
    .description('Your runs, newest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('--agent <name>', 'only runs of this agent')
    .option('--limit <n>', 'how many (1–100)', '20')
    .action(
      action(async (ctx, opts: { status?: (typeof RUN_STATUSES)[number]; agent?: string; limit: string }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          throw new CliError(`--limit must be a whole number from 1 to 100, got ${opts.limit}`, EXIT.usage, 'USAGE');
        }
        const { output } = ctx;
        const page = await (await ctx.client()).runs.list.query({
          limit,
          scope: 'own',
          ...(opts.status === undefined ? {} : { status: opts.status }),
          ...(opts.agent === undefined ? {} : { agent: opts.agent }),
        });
        for (const run of page.items) {
          output.record(run);
          const duration = run.durationMs === null ? '' : formatDuration(run.durationMs);
          output.line(
            `${run.id}  ${output.color.bold(run.agent.padEnd(12))} ${statusColour(output.color, run.status, run.status.padEnd(11))} ${run.startedAt}  ${output.color.dim(duration)}`,
          );
        }
        if (page.items.length === 0) output.line(output.color.dim('no runs'));
        return EXIT.ok;
      }),
    );
}

function statusColour(c: Colors, status: string, text: string): string {
  if (status === 'completed') return c.green(text);
  if (status === 'failed') return c.red(text);
  if (status === 'running') return c.cyan(text);
  return c.yellow(text);
}
