import type { UserExecutionContext } from './context.ts';

/**
 * `live`: claimed, not yet watched by the leak detector; `watched`: registered with it;
 * `released`: its slot was given back.
 */
type ScopeBooking = 'live' | 'watched' | 'released';

// Read and written by this module only: set in BookedScope's static block, reachable from nowhere else.
let bookingOf: (scope: BookedScope) => ScopeBooking;
let book: (scope: BookedScope, booking: ScopeBooking) => void;

/**
 * What the factory books for a live scope, kept on the scope itself (no token object per scope):
 * its context, and its booking in a private field that nothing but {@link ScopeLeakWatch} can read
 * or change. The scope class extends it. Internal.
 */
export abstract class BookedScope {
  static {
    bookingOf = (scope) => scope.#booking;
    book = (scope, booking) => {
      scope.#booking = booking;
    };
  }

  readonly context: UserExecutionContext;
  #booking: ScopeBooking = 'live';

  constructor(context: UserExecutionContext) {
    this.context = context;
  }
}

// Scopes are handed to the garbage collector's registry in batches: at the next timer tick, or at
// once when this many are waiting (a long synchronous loop of scopes holds at most this many).
const WATCH_BATCH = 1_024;

/**
 * The leak detector of a factory's scopes: one dropped without being disposed is reported (with its
 * context) once the garbage collector takes it. Lazily: a scope is registered with the
 * `FinalizationRegistry` only if it is still live at the next timer tick (or once
 * {@link WATCH_BATCH} are waiting). Until then a list holds it, so it cannot be collected unseen;
 * a scope created and disposed in the same tick (most of them) never pays for registering and
 * unregistering. Internal.
 */
export class ScopeLeakWatch {
  // The held value and the unregister token are the scope's context: it names the user and the
  // run, and it is unique to its scope (one context, one scope), so no token object is needed.
  readonly #registry: FinalizationRegistry<UserExecutionContext>;
  // Scopes not registered yet; defined exactly while a tick is pending to register them.
  #waiting: BookedScope[] | undefined;

  constructor(onLeak: (context: UserExecutionContext) => void) {
    this.#registry = new FinalizationRegistry(onLeak);
  }

  /** Watches a newly claimed scope. */
  watch(scope: BookedScope): void {
    const waiting = this.#waiting;
    if (waiting === undefined) {
      this.#waiting = [scope];
      setTimeout(ScopeLeakWatch.#tick, 0, this).unref();
    } else if (waiting.push(scope) >= WATCH_BATCH) {
      // The tick is still pending (a list exists only while one is): it takes later arrivals.
      this.#waiting = [];
      this.#register(waiting);
    }
  }

  /** Marks a scope released (and stops watching it); false when it already was. */
  release(scope: BookedScope): boolean {
    const booking = bookingOf(scope);
    if (booking === 'released') return false;
    book(scope, 'released');
    if (booking === 'watched') this.#registry.unregister(scope.context);
    else {
      // Usually the scope created last: drop it from the waiting list at once.
      const waiting = this.#waiting;
      if (waiting !== undefined && waiting[waiting.length - 1] === scope) waiting.pop();
    }
    return true;
  }

  static #tick(watch: ScopeLeakWatch): void {
    const waiting = watch.#waiting;
    watch.#waiting = undefined;
    if (waiting !== undefined) watch.#register(waiting);
  }

  #register(waiting: readonly BookedScope[]): void {
    for (const scope of waiting) {
      if (bookingOf(scope) !== 'live') continue;
      book(scope, 'watched');
      this.#registry.register(scope, scope.context, scope.context);
    }
  }
}
