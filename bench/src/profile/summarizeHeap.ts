import { readFileSync } from 'node:fs';

/** The parts of a V8 `.heapsnapshot` that a summary by constructor needs. */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count of one kind of object. */
export interface HeapGroup {
  readonly name: string;
  readonly count: number;
  readonly selfBytes: number;
}

/**
 * Sums a heap snapshot's objects by constructor (or by node type for strings, closures, code…):
 * count and self size. Comparing two snapshots (with and without N live runs) and dividing by N
 * says what one run holds.
 */
export function summarizeHeap(snapshot: HeapSnapshot): Map<string, HeapGroup> {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { count: number; selfBytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] as number] ?? 'unknown';
    const name = snapshot.strings[snapshot.nodes[i + nameAt] as number] ?? '';
    // Objects are grouped by constructor; everything else (strings, closures, arrays…) by type.
    const key = type === 'object' ? name : `(${type})${type === 'closure' ? ` ${name}` : ''}`;
    const group = groups.get(key) ?? { count: 0, selfBytes: 0 };
    group.count += 1;
    group.selfBytes += snapshot.nodes[i + sizeAt] as number;
    groups.set(key, group);
  }
  return new Map([...groups].map(([name, g]) => [name, { name, ...g }]));
}

/** What `after` holds more than `before`, per unit (e.g. per live run), largest first. */
export function heapGrowth(
  before: Map<string, HeapGroup>,
  after: Map<string, HeapGroup>,
  units: number,
): { name: string; countPerUnit: number; bytesPerUnit: number }[] {
  const out: { name: string; countPerUnit: number; bytesPerUnit: number }[] = [];
  for (const [name, a] of after) {
    const b = before.get(name);
    const bytes = a.selfBytes - (b?.selfBytes ?? 0);
    const count = a.count - (b?.count ?? 0);
    if (bytes <= 0) continue;
    out.push({ name, countPerUnit: count / units, bytesPerUnit: bytes / units });
  }
  return out.sort((x, y) => y.bytesPerUnit - x.bytesPerUnit);
}

/** Reads a `.heapsnapshot` file. */
export function readHeapSnapshot(path: string): HeapSnapshot {
  return JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot;
}
