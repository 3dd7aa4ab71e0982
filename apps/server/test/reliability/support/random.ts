/** A small seeded pseudo-random source (mulberry32), so a failing load can be replayed with its seed. */
export interface Random {
  /** In [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A new independent source derived from this one and `salt` (one per virtual user). */
  fork(salt: number): Random;
}

/**
 * Creates a {@link Random} from a 32-bit seed.
 *
 * @example
 * const rng = createRandom(42);
 * rng.pick(['sse', 'ws']);
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    fork: (salt) => createRandom((seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0),
  };
}
