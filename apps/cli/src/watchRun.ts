import { isCancel, select } from '@clack/prompts';
import type { RunEvent } from '@toolrun/api';
import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import type { CliContext } from './CliContext.ts';
import { toCliError } from './CliError.ts';
import { EXIT, type ExitCode, exitCodeOf } from './exitCodes.ts';
import { followRun } from './followRun.ts';
import { Timeline } from './Timeline.ts';

/** What Ctrl-C (SIGINT) does while a run is followed; SIGTERM does the same but never asks. */
export const ON_INTERRUPT = ['ask', 'cancel', 'detach'] as const;
export type OnInterrupt = (typeof ON_INTERRUPT)[number];

type Choice = 'cancel' | 'detach' | 'follow';

/**
 * Follows one run live until it ends and returns the exit code of its status: on a terminal a
 * spinner lists the calls in flight above one line per event; with `--json` each event is one line
 * of JSON on stdout. Ctrl-C asks (on a terminal, `onInterrupt: 'ask'`) whether to cancel the run,
 * detach from it or keep following; `cancel` cancels and waits for the run's end, `detach` leaves
 * it running, prints how to follow it again and returns {@link EXIT.detached}.
 */
export async function watchRun(
  ctx: CliContext,
  opts: { runId: string; lastEventId?: string | undefined; onInterrupt: OnInterrupt },
): Promise<ExitCode> {
  const { output } = ctx;
  const client = await ctx.client();
  const timeline = new Timeline({ color: output.color, live: output.live });
  const detach = new AbortController();
  let spinner: Spinner | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const startSpinner = () => {
    if (!output.live || spinner !== undefined) return;
    spinner = yoctoSpinner({ stream: output.stderr, handleSignals: false, text: timeline.running() }).start();
    ticker = setInterval(() => {
      if (spinner !== undefined) spinner.text = timeline.running();
    }, 100);
  };
  const stopSpinner = () => {
    clearInterval(ticker);
    spinner?.stop();
    spinner = undefined;
  };

  // While the question is on screen, events wait here, then print in order.
  let held: RunEvent[] | undefined;
  const show = (event: RunEvent) => {
    if (output.json) output.record(event);
    else for (const line of timeline.linesFor(event)) output.line(line);
  };
  const onEvent = (event: RunEvent) => {
    if (held !== undefined) held.push(event);
    else show(event);
  };

  const runEnded = new AbortController();
  let asking: Promise<Choice> | undefined;
  const ask = async (): Promise<Choice> => {
    held = [];
    stopSpinner();
    const answer = await select<Choice>({
      message: `Run ${opts.runId} is still running. What now?`,
      options: [
        { value: 'detach', label: 'Detach', hint: 'leave it running; follow it again later' },
        { value: 'cancel', label: 'Cancel the run', hint: 'it ends cancelled' },
        { value: 'follow', label: 'Keep following' },
      ],
      output: output.stderr,
      signal: runEnded.signal,
    });
    const events = held;
    held = undefined;
    for (const event of events) show(event);
    if (!runEnded.signal.aborted) startSpinner();
    // Ctrl-C or Escape at the question: detach, the answer that changes nothing on the server.
    return isCancel(answer) ? 'detach' : answer;
  };

  let cancelling = false;
  const act = (choice: Choice) => {
    switch (choice) {
      case 'detach':
        detach.abort();
        return;
      case 'cancel':
        cancelling = true;
        output.note(output.color.yellow(`cancelling run ${opts.runId}… (Ctrl-C again to detach)`));
        client.runs.cancel.mutate({ runId: opts.runId }).catch((error: unknown) => {
          output.error(toCliError(error, ctx.url));
        });
        return;
      case 'follow':
        return;
      default: {
        const unreachable: never = choice;
        throw new Error(`unknown choice ${String(unreachable)}`);
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (asking !== undefined) return;
    if (cancelling || opts.onInterrupt === 'detach') return act('detach');
    if (opts.onInterrupt === 'cancel') return act('cancel');
    if (signal !== 'SIGINT' || !output.canAsk) return act('detach');
    asking = ask();
    asking.then(
      (choice) => {
        asking = undefined;
        if (!runEnded.signal.aborted) act(choice);
      },
      () => {
        asking = undefined;
        act('detach');
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  startSpinner();
  let lastEventId = opts.lastEventId;
  try {
    const result = await followRun({
      client,
      runId: opts.runId,
      lastEventId: opts.lastEventId,
      signal: detach.signal,
      onEvent,
      onReconnecting: (reconnecting, error) => {
        if (reconnecting)
          output.note(output.color.yellow(`connection lost (${error?.message ?? 'closed'}); resuming…`));
      },
    });
    lastEventId = result.lastEventId;
    runEnded.abort();
    if (asking !== undefined) await asking.catch(() => 'detach');
    stopSpinner();
    if (result.completed !== undefined) return exitCodeOf(result.completed.status);
    if (detach.signal.aborted) {
      const from = lastEventId === undefined ? '' : ` --from ${lastEventId}`;
      output.note(
        `Detached: run ${opts.runId} goes on.\n` +
          `  follow it again: ${ctx.command(`follow ${opts.runId}${from}`)}\n` +
          `  cancel it:       ${ctx.command(`cancel ${opts.runId}`)}`,
      );
      return EXIT.detached;
    }
    // Nothing after `--from`: the run had already ended; its status gives the exit code.
    const { run } = await client.runs.get.query({ runId: opts.runId });
    output.note(`run ${opts.runId} had already ended: ${run.status}`);
    return run.status === 'running' || run.status === 'queued' ? EXIT.error : exitCodeOf(run.status);
  } finally {
    runEnded.abort();
    stopSpinner();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
