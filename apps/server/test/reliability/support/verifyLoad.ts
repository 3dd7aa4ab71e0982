import type { RunEvent } from '@toolrun/api';
import type { StreamLog } from './followStream.ts';
import type { UserLog } from './virtualUser.ts';

/** What a load did and how much of the promise held, as plain JSON. Every `must be zero` field is a defect when not zero. */
export interface LoadFigures {
  users: number;
  runs: number;
  storedEvents: number;
  receivedEvents: number;
  messages: number;
  subscriptions: number;
  clientDrops: number;
  subscriptionErrors: number;
  /** The subscription errors by tRPC code (each was followed by a resume from the last tracked id). */
  subscriptionErrorCodes: Record<string, number>;
  cancelsRequested: number;
  /** Of the runs whose owner asked to cancel them, those that ended `cancelled` (the others had finished first). */
  cancelsHonoured: number;
  /** Cancels `runs.cancel` answered `cancelled: true` for (the run was under way), and of those, the runs that did not end `cancelled`. */
  cancelsAccepted: { total: number; endedOtherwise: number };
  /** How long the answered `runs.cancel` calls took (ms, retries included): the median, 90th percentile and longest. */
  cancelLatencyMs: { answered: number; p50: number; p90: number; max: number };
  /**
   * The runs asked to cancel that did not end `cancelled`, by when they ended (their `agent_completed`'s
   * time): before the cancel was asked, while it was on its way (before its answer), or after its answer.
   */
  cancelsTooLate: { endedBeforeAsked: number; endedBeforeAnswer: number; endedAfterAnswer: number };
  ambiguousStarts: number;
  statuses: Record<string, number>;
  /** Error codes of the runs that ended failed or interrupted, with how often. */
  endErrorCodes: Record<string, number>;
  /** Stored events a run's owner never received (must be zero). */
  lost: number;
  /** Events a client received more than once (must be zero). */
  duplicated: number;
  /** Events received by a user who does not own them, on a run stream or the user's own feed (must be zero). */
  leaked: number;
  /** Events received out of seq order (must be zero). */
  outOfOrder: number;
  /** Events received that the database does not hold, or holds with other content (must be zero). */
  undurable: number;
  /** Runs whose stored history does not end with exactly one agent_completed (must be zero). */
  notTerminal: number;
  /** Run streams that never reached agent_completed before the hang guard (must be zero). */
  unfinishedStreams: number;
  /** Messages whose tracked id is not the id of their last event, or which hold no event (must be zero). */
  badMessages: number;
  /** Times a run stream completed before its agent_completed (must be zero). */
  earlyCompletions: number;
  /** The first ten of them: which run, over which transport, after which seq, of how many stored. */
  earlyCompletionSamples: { runId: string; transport: string; afterSeq: number; storedLastSeq: number }[];
  /** Runs whose start was acknowledged but which the server no longer knew (reported; see RELIABILITY.md). */
  vanishedRuns: number;
  /** The first ten of them. */
  vanishedRunIds: string[];
  /**
   * Feeds followed (`users`: own feeds, `allUsers`: admins' every-user feeds), the events they held, and
   * the feeds with a gap or a stray event (must be zero), and the feeds stopped before they had the end
   * of each of their user's runs (10 s after the last one: checked up to what they held; reported).
   */
  feeds: { users: number; allUsers: number; events: number; gaps: number; late: number };
  /** The first ten feed gaps: whose feed, which check, and where. */
  feedGapSamples: string[];
  /** Calls the server refused, by procedure and tRPC code, with how often (must be empty). */
  refusals: Record<string, number>;
  /** Calls that failed on the network (a cut connection, a dead server) and were retried, with how often. */
  networkFailures: Record<string, number>;
}

/** Every counter of {@link LoadFigures} that must be zero and is not, as readable lines. */
export function problemsOf(figures: LoadFigures): string[] {
  const mustBeZero = [
    'lost',
    'duplicated',
    'leaked',
    'outOfOrder',
    'undurable',
    'notTerminal',
    'unfinishedStreams',
    'badMessages',
    'earlyCompletions',
  ] as const;
  const problems: string[] = mustBeZero.filter((k) => figures[k] !== 0).map((k) => `${k}: ${figures[k]}`);
  if (figures.feeds.gaps !== 0) problems.push(`feed gaps: ${figures.feeds.gaps}`);
  for (const [what, count] of Object.entries(figures.refusals)) problems.push(`refused ${count}×: ${what}`);
  return problems;
}

/**
 * Compares what every client received with what the database holds: for each run, the events the
 * owner received across all its reconnects must equal the stored events exactly, in order, with no
 * gap and no duplicate, and end with exactly one agent_completed; no event may reach anyone but
 * its owner; feeds must have no gap once they hold a run's first event. With `commitOrder` (every
 * stored event in commit order), each feed must also hold exactly the stored feed (its user's events,
 * or everyone's) from the first event it received to the last: the order of feeds read from the
 * database (cluster mode), where a gap between runs would show too.
 */
export function verifyLoad(
  logs: readonly UserLog[],
  stored: (runId: string) => RunEvent[] | undefined,
  commitOrder?: readonly RunEvent[],
): LoadFigures {
  const f: LoadFigures = {
    users: logs.length,
    runs: 0,
    storedEvents: 0,
    receivedEvents: 0,
    messages: 0,
    subscriptions: 0,
    clientDrops: 0,
    subscriptionErrors: 0,
    subscriptionErrorCodes: {},
    cancelsRequested: 0,
    cancelsHonoured: 0,
    cancelsAccepted: { total: 0, endedOtherwise: 0 },
    cancelLatencyMs: { answered: 0, p50: 0, p90: 0, max: 0 },
    cancelsTooLate: { endedBeforeAsked: 0, endedBeforeAnswer: 0, endedAfterAnswer: 0 },
    ambiguousStarts: 0,
    statuses: {},
    endErrorCodes: {},
    lost: 0,
    duplicated: 0,
    leaked: 0,
    outOfOrder: 0,
    undurable: 0,
    notTerminal: 0,
    unfinishedStreams: 0,
    badMessages: 0,
    earlyCompletions: 0,
    earlyCompletionSamples: [],
    vanishedRuns: 0,
    vanishedRunIds: [],
    feeds: { users: 0, allUsers: 0, events: 0, gaps: 0, late: 0 },
    feedGapSamples: [],
    refusals: {},
    networkFailures: {},
  };
  const cancelMs: number[] = [];
  for (const user of logs) {
    f.ambiguousStarts += user.ambiguousStarts;
    for (const failure of user.failures) {
      const bucket = failure.includes(': network') ? f.networkFailures : f.refusals;
      bucket[failure] = (bucket[failure] ?? 0) + 1;
    }
    for (const run of user.runs) {
      f.runs += 1;
      if (run.cancelRequested) f.cancelsRequested += 1;
      if (run.cancelMs !== undefined) cancelMs.push(run.cancelMs);
      countStream(f, run.stream);
      const events = stored(run.runId);
      if (events === undefined || events.length === 0) {
        if (run.stream.vanished) {
          f.vanishedRuns += 1;
          if (f.vanishedRunIds.length < 10) f.vanishedRunIds.push(run.runId);
        } else f.notTerminal += 1;
        f.leaked += run.stream.events.filter((e) => e.userId !== user.userId || e.runId !== run.runId).length;
        continue;
      }
      f.storedEvents += events.length;
      const completed = events.filter((e) => e.type === 'agent_completed');
      const last = events.at(-1);
      if (completed.length !== 1 || last?.type !== 'agent_completed') f.notTerminal += 1;
      if (last?.type === 'agent_completed') {
        f.statuses[last.status] = (f.statuses[last.status] ?? 0) + 1;
        if (run.cancelRequested && last.status === 'cancelled') f.cancelsHonoured += 1;
        if (run.cancelAnswer === true) {
          f.cancelsAccepted.total += 1;
          if (last.status !== 'cancelled') f.cancelsAccepted.endedOtherwise += 1;
        }
        if (run.cancelAskedAt !== undefined && last.status !== 'cancelled') {
          const endedAt = Date.parse(last.at);
          if (endedAt < run.cancelAskedAt) f.cancelsTooLate.endedBeforeAsked += 1;
          else if (endedAt < run.cancelAskedAt + (run.cancelMs ?? Number.POSITIVE_INFINITY))
            f.cancelsTooLate.endedBeforeAnswer += 1;
          else f.cancelsTooLate.endedAfterAnswer += 1;
        }
        const code = 'error' in last && last.error !== undefined ? `${last.status}: ${last.error.code}` : undefined;
        if (code !== undefined && last.status !== 'cancelled') f.endErrorCodes[code] = (f.endErrorCodes[code] ?? 0) + 1;
      }
      compare(f, run.stream.events, events, user.userId, run.runId);
      for (const afterSeq of run.stream.earlyCompletionSeqs) {
        if (f.earlyCompletionSamples.length >= 10) break;
        f.earlyCompletionSamples.push({
          runId: run.runId,
          transport: run.transport,
          afterSeq,
          storedLastSeq: last?.seq ?? 0,
        });
      }
      if (run.stream.events.at(-1)?.type !== 'agent_completed') f.unfinishedStreams += 1;
    }
    if (user.feed !== undefined) checkFeed(f, user, stored, commitOrder);
  }
  cancelMs.sort((a, b) => a - b);
  const at = (q: number) => cancelMs[Math.min(cancelMs.length - 1, Math.floor(q * cancelMs.length))] ?? 0;
  f.cancelLatencyMs = { answered: cancelMs.length, p50: at(0.5), p90: at(0.9), max: cancelMs.at(-1) ?? 0 };
  return f;
}

function countStream(f: LoadFigures, stream: StreamLog): void {
  f.receivedEvents += stream.events.length;
  f.messages += stream.messages;
  f.subscriptions += stream.subscriptions;
  f.clientDrops += stream.drops;
  f.subscriptionErrors += stream.errors.length;
  for (const code of stream.errors) f.subscriptionErrorCodes[code] = (f.subscriptionErrorCodes[code] ?? 0) + 1;
  f.badMessages += stream.badTrackedIds + stream.emptyMessages;
  f.earlyCompletions += stream.earlyCompletions;
}

function compare(
  f: LoadFigures,
  received: readonly RunEvent[],
  stored: readonly RunEvent[],
  userId: string,
  runId: string,
) {
  const storedById = new Map(stored.map((e) => [e.id, JSON.stringify(e)]));
  const seen = new Set<string>();
  let previousSeq = 0;
  for (const event of received) {
    if (event.userId !== userId || event.runId !== runId) {
      f.leaked += 1;
      continue;
    }
    if (seen.has(event.id)) {
      f.duplicated += 1;
      continue;
    }
    seen.add(event.id);
    if (event.seq <= previousSeq) f.outOfOrder += 1;
    previousSeq = event.seq;
    if (storedById.get(event.id) !== JSON.stringify(event)) f.undurable += 1;
  }
  for (const id of storedById.keys()) if (!seen.has(id)) f.lost += 1;
}

function checkFeed(
  f: LoadFigures,
  user: UserLog,
  stored: (runId: string) => RunEvent[] | undefined,
  commitOrder: readonly RunEvent[] | undefined,
): void {
  const feed = user.feed;
  if (feed === undefined) return;
  const everyone = user.feedScope === 'all';
  if (everyone) f.feeds.allUsers += 1;
  else f.feeds.users += 1;
  f.feeds.events += feed.events.length;
  countStream(f, feed);
  for (const afterSeq of feed.earlyCompletionSeqs) {
    if (f.earlyCompletionSamples.length >= 10) break;
    const last = feed.events.at(-1);
    f.earlyCompletionSamples.push({
      runId: `feed of ${user.userId} (${last?.id ?? 'nothing yet'})`,
      transport: user.transport,
      afterSeq,
      storedLastSeq: -1,
    });
  }
  const byRun = new Map<string, RunEvent[]>();
  const seen = new Set<string>();
  for (const event of feed.events) {
    if (!everyone && event.userId !== user.userId) {
      f.leaked += 1;
      continue;
    }
    if (seen.has(event.id)) {
      f.duplicated += 1;
      continue;
    }
    seen.add(event.id);
    const list = byRun.get(event.runId) ?? [];
    list.push(event);
    byRun.set(event.runId, list);
  }
  const gap = (what: string) => {
    f.feeds.gaps += 1;
    if (f.feedGapSamples.length < 10) f.feedGapSamples.push(`${user.userId} (${user.feedScope}): ${what}`);
  };
  // The runs the user waits for before it stops its feed: the ones whose start it got an answer for.
  const awaited = new Set(user.feedCaughtUp === false ? [] : user.runs.map((r) => r.runId));
  if (user.feedCaughtUp === false) f.feeds.late += 1;
  for (const [runId, events] of byRun) {
    // From the first event it holds of a run, a feed holds all the rest of it, in order; up to the
    // last one it holds only for a run nobody waited for (another user's in an admin's every-user
    // feed, or a run whose start's answer a cut lost), which may outlive the feed.
    const all = stored(runId) ?? [];
    const first = events[0]?.seq ?? 1;
    const last = everyone || !awaited.has(runId) ? (events.at(-1)?.seq ?? 0) : Number.POSITIVE_INFINITY;
    const expected = all.filter((e) => e.seq >= first && e.seq <= last).map((e) => e.seq);
    const got = events.map((e) => e.seq);
    if (JSON.stringify(got) !== JSON.stringify(expected))
      gap(`run ${runId} seqs ${got.join(',')}, stored ${expected.join(',')}`);
  }
  if (commitOrder !== undefined) {
    const ids = new Set<string>();
    const received = feed.events.filter((e) => !ids.has(e.id) && ids.add(e.id) !== undefined);
    const ordered = everyone ? commitOrder : commitOrder.filter((e) => e.userId === user.userId);
    const from = ordered.findIndex((e) => e.id === received[0]?.id);
    const to = ordered.findIndex((e) => e.id === received.at(-1)?.id);
    const window = from < 0 || to < 0 ? [] : ordered.slice(from, to + 1);
    if (JSON.stringify(window) !== JSON.stringify(received)) {
      const missing = window.filter((e) => !ids.has(e.id)).length;
      gap(
        `${received.length} events from ${received[0]?.id} to ${received.at(-1)?.id}, stored ${window.length} (${missing} missing)`,
      );
    }
  }
}
