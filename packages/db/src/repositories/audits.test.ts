import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';

describe.each(BACKENDS)('isolation audits on $name', (backend) => {
  it('stores a report, lists summaries newest first in pages, and returns the full record', async () => {
    let clock = Date.UTC(2026, 5, 1);
    const db = await backend.open(undefined, { now: () => clock });
    const stored = [];
    for (let i = 0; i < 5; i += 1) {
      // Two audits share a millisecond so the id tiebreak matters.
      if (i !== 3) clock += 1_000;
      stored.push(
        await db.insertAudit({
          ranBy: 'admin-1',
          params: { users: i },
          report: { passed: i !== 2 },
          violations: i === 2 ? 3 : 0,
        }),
      );
    }
    const first = await db.listAudits({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.items[0]).not.toHaveProperty('report');
    const all = [...first.items];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = await db.listAudits({ limit: 2, cursor });
      all.push(...page.items);
      cursor = page.nextCursor;
    }
    const expected = [...stored].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    expect(all.map((a) => a.id)).toEqual(expected.map((a) => a.id));
    expect(await db.getAudit(stored[2]?.id ?? '')).toEqual(stored[2]);
    expect(stored[2]).toMatchObject({
      ranBy: 'admin-1',
      violations: 3,
      report: { passed: false },
      createdAt: '2026-06-01T00:00:03.000Z',
    });
    expect(await db.getAudit('missing')).toBeUndefined();
  });
});
