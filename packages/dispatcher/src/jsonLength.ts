/**
 * The length of `value` as JSON text, in characters, counted without building the text and
 * stopping as soon as it passes `max` (then the result is some number above `max`). Escapes are
 * not counted, so the figure is a slight under-estimate for strings full of quotes or newlines.
 * Values nested deeper than 1,000 levels count as over any limit.
 */
export function jsonLength(value: unknown, max: number): number {
  const state = { total: 0, max };
  add(value, state, 0);
  return state.total;
}

interface State {
  total: number;
  readonly max: number;
}

function add(value: unknown, state: State, depth: number): void {
  if (state.total > state.max) return;
  switch (typeof value) {
    case 'string':
      state.total += value.length + 2;
      return;
    case 'number':
    case 'bigint':
    case 'boolean':
      state.total += String(value).length;
      return;
    case 'object':
      break;
    default:
      // undefined, functions and symbols: dropped or null in JSON.
      state.total += 4;
      return;
  }
  if (value === null) {
    state.total += 4;
    return;
  }
  if (depth > 1_000) {
    state.total = Number.POSITIVE_INFINITY;
    return;
  }
  if (Array.isArray(value)) {
    // `[]` and a comma between items.
    state.total += 2 + Math.max(0, value.length - 1);
    for (const item of value) {
      add(item, state, depth + 1);
      if (state.total > state.max) return;
    }
    return;
  }
  // `{}`, then `"key":` per key and a comma between keys.
  state.total += 2;
  let keys = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    state.total += key.length + (keys === 0 ? 3 : 4);
    keys += 1;
    add((value as Record<string, unknown>)[key], state, depth + 1);
    if (state.total > state.max) return;
  }
}
