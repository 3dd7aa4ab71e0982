import { describe, expect, it } from 'vitest';
import { type HeapSnapshot, heapGrowth, summarizeHeap } from './summarizeHeap.ts';

function snapshot(nodes: [type: number, name: number, size: number][]): HeapSnapshot {
  return {
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
        node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure'], 'string'],
      },
    },
    nodes: nodes.flatMap(([type, name, size], i) => [type, name, i + 1, size, 0]),
    strings: ['', 'ActiveRun', 'Promise', 'onAbort'],
  };
}

describe('summarizeHeap', () => {
  it('groups objects by constructor and everything else by type, with counts and self sizes', () => {
    const groups = summarizeHeap(
      snapshot([
        [3, 1, 120],
        [3, 1, 120],
        [3, 2, 32],
        [5, 3, 64],
        [2, 0, 40],
      ]),
    );
    expect(groups.get('ActiveRun')).toEqual({ name: 'ActiveRun', count: 2, selfBytes: 240 });
    expect(groups.get('Promise')).toEqual({ name: 'Promise', count: 1, selfBytes: 32 });
    expect(groups.get('(closure) onAbort')).toEqual({ name: '(closure) onAbort', count: 1, selfBytes: 64 });
    expect(groups.get('(string)')?.selfBytes).toBe(40);
  });

  it('says what each unit added between two snapshots, largest first, ignoring what shrank', () => {
    const before = summarizeHeap(snapshot([[3, 2, 32]]));
    const after = summarizeHeap(
      snapshot([
        [3, 1, 100],
        [3, 1, 100],
        [3, 2, 32],
        [3, 2, 32],
        [3, 2, 32],
      ]),
    );
    expect(heapGrowth(before, after, 2)).toEqual([
      { name: 'ActiveRun', countPerUnit: 1, bytesPerUnit: 100 },
      { name: 'Promise', countPerUnit: 1, bytesPerUnit: 32 },
    ]);
    expect(heapGrowth(after, before, 1)).toEqual([]);
  });
});
