/** Something with a deadline on `performance.now()`: linked into a {@link RunDeadlines} list. */
export interface DeadlineEntry {
  /** `performance.now()` at which the entry expires; set by {@link RunDeadlines.add}. */
  deadlineAt: number;
  prevDeadline: DeadlineEntry | undefined;
  nextDeadline: DeadlineEntry | undefined;
  /** Called once, when the deadline passes (the entry has already been removed). */
  deadlinePassed(): void;
}

// setTimeout has a millisecond granularity and may fire a fraction early: an entry this close to
// its deadline has reached it.
const SLACK_MS = 1;

/**
 * Every run deadline of a factory behind one timer. Entries form a doubly-linked list sorted by
 * deadline (a run's deadline is almost always the latest so far, so `add` walks back from the
 * tail, usually not at all); the one `Timeout` is armed for the earliest entry and re-armed when it
 * fires. Adding and removing cost no allocation, so a live run holds two links instead of a
 * `Timeout` and its callback. The timer keeps the process alive while any deadline is pending, as
 * a timer per run did. Internal.
 */
export class RunDeadlines {
  #head: DeadlineEntry | undefined;
  #tail: DeadlineEntry | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // performance.now() the armed timer fires at; Infinity when none is armed.
  #timerAt = Number.POSITIVE_INFINITY;

  /** Links `entry` with a deadline `ms` from now; returns that deadline (`performance.now()` time). */
  add(entry: DeadlineEntry, ms: number): number {
    const at = performance.now() + ms;
    entry.deadlineAt = at;
    let after = this.#tail;
    while (after !== undefined && after.deadlineAt > at) after = after.prevDeadline;
    entry.prevDeadline = after;
    entry.nextDeadline = after === undefined ? this.#head : after.nextDeadline;
    if (entry.nextDeadline === undefined) this.#tail = entry;
    else entry.nextDeadline.prevDeadline = entry;
    if (after === undefined) this.#head = entry;
    else after.nextDeadline = entry;
    if (at < this.#timerAt) this.#arm(at);
    return at;
  }

  /** Unlinks `entry`; a no-op when it is not linked. */
  remove(entry: DeadlineEntry): void {
    const { prevDeadline: prev, nextDeadline: next } = entry;
    if (prev === undefined && this.#head !== entry) return;
    if (prev === undefined) this.#head = next;
    else prev.nextDeadline = next;
    if (next === undefined) this.#tail = prev;
    else next.prevDeadline = prev;
    entry.prevDeadline = undefined;
    entry.nextDeadline = undefined;
    // An empty list holds no timer (nothing to keep the process alive for); otherwise the armed
    // timer, if early now, finds nothing due and re-arms itself for the new head.
    if (this.#head === undefined) this.#disarm();
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(RunDeadlines.#fire, Math.max(0, at - performance.now()), this);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  // Static, with the list as the timer's argument: no closure per arming.
  static #fire(list: RunDeadlines): void {
    list.#timer = undefined;
    list.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now() + SLACK_MS;
    for (let entry = list.#head; entry !== undefined && entry.deadlineAt <= now; entry = list.#head) {
      list.remove(entry);
      entry.deadlinePassed();
    }
    // An entry's callback may have added or removed others: arm for whatever is first now.
    const head = list.#head;
    if (head !== undefined && head.deadlineAt < list.#timerAt) list.#arm(head.deadlineAt);
  }
}
