/**
 * JSON with object keys in sorted order at every depth (arrays keep their order) and two-space
 * indentation, ending in a newline: the same results give the same bytes, so diffs of a committed
 * results file show only figures that changed. `undefined` properties are left out, as in JSON.
 */
export function stableStringify(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) {
      const v = source[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
