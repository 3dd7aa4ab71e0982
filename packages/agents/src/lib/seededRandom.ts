/**
 * A deterministic number in [0, 1) for a seed. The seed is mixed with MurmurHash3's finaliser and
 * then run through one mulberry32 step, so neighbouring seeds (1, 2, 3 …) give unrelated numbers;
 * the same seed always gives the same number, so demos and tests that pass seeds repeat exactly.
 */
export function seededRandom(seed: number): number {
  let h = Math.trunc(seed) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  let t = (h + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
