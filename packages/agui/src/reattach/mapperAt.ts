import type { ToolrunServices } from '@toolrun/api';
import { AguiEventMapper } from '../mapping/AguiEventMapper.ts';

/**
 * A mapper that has seen a run's stored events up to and including `seq`, without sending any of
 * them: its {@link AguiEventMapper.prelude} is what a fresh AG-UI client needs before the events
 * after `seq`, and it maps those as if it had sent the whole run. The events up to `seq` are
 * committed (the caller checked `seq` against the run's last committed seq), so the database has
 * them all; they are read a page at a time.
 */
export async function mapperAt(services: ToolrunServices, runId: string, seq: number): Promise<AguiEventMapper> {
  const mapper = new AguiEventMapper();
  const page = services.config.replayPageSize;
  let cursor = 0;
  while (cursor < seq) {
    const stored = await services.db.eventsAfter(runId, cursor, Math.min(page, seq - cursor));
    const last = stored.at(-1);
    if (last === undefined) break;
    for (const event of stored) mapper.map(event);
    cursor = last.seq;
  }
  return mapper;
}
