import type { RunEvent } from '@toolrun/api';
import type { Command } from 'commander';
import { EXIT } from '../exitCodes.ts';
import { Timeline } from '../Timeline.ts';
import type { Action } from './Action.ts';

/** `toolrun feed`: all of the caller's runs, live, until Ctrl-C. */
export function registerFeedCommand(program: Command, action: Action): void {
  program
    .command('feed')
    .description("All of your runs' events, live, until Ctrl-C (--from: history after that event first)")
    .option('--from <eventId>', 'start with the events after this one')
    .option('--all', "every user's runs (admins only)")
    .action(
      action(async (ctx, opts: { from?: string; all?: boolean }) => {
        const { output } = ctx;
        const client = await ctx.client();
        // One timeline per run, so each run's calls and sub-agents indent on their own.
        const timelines = new Map<string, Timeline>();
        const show = (event: RunEvent) => {
          if (output.json) return output.record(event);
          let timeline = timelines.get(event.runId);
          if (timeline === undefined) {
            timeline = new Timeline({ color: output.color, live: false });
            timelines.set(event.runId, timeline);
          }
          const who = opts.all === true ? ` ${event.userId}` : '';
          for (const line of timeline.linesFor(event))
            output.line(`${output.color.dim(`${event.runId}${who}`)} ${line}`);
          if (event.type === 'agent_completed') timelines.delete(event.runId);
        };
        await client.auth.me.query();
        let started = false;
        return new Promise((resolve, reject) => {
          const stop = () => {
            subscription.unsubscribe();
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve(EXIT.ok);
          };
          const subscription = client.runs.feed.subscribe(
            {
              scope: opts.all === true ? 'all' : 'own',
              ...(opts.from === undefined ? {} : { lastEventId: opts.from }),
            },
            {
              onData: ({ data: events }) => {
                for (const event of events) show(event);
              },
              onStarted: () => {
                if (!started)
                  output.note(output.color.dim(`following ${opts.all === true ? 'all' : 'your'} runs; Ctrl-C to stop`));
                started = true;
              },
              onConnectionStateChange: (state) => {
                if (state.state === 'connecting' && state.error !== null) {
                  output.note(output.color.yellow(`connection lost (${state.error.message}); resuming…`));
                }
              },
              onError: (error) => {
                process.off('SIGINT', stop);
                process.off('SIGTERM', stop);
                reject(error);
              },
            },
          );
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      }),
    );
}
