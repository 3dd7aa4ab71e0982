import { emitTimes, type RunEvent } from '@toolrun/api';

/**
 * `JSON.stringify(events)` for a message's events, built from the text each live event's database
 * row was written with (kept by the sink, see `emitTimes.keepJson`), so that an event is serialised
 * once, not once for its row and again for every message that carries it. Events without kept text
 * (history read back, or a sink that keeps none) are serialised here. `undefined` when `events` holds
 * anything but objects: the caller serialises the payload as it is.
 */
export function liveEventsJson(events: readonly unknown[]): string | undefined {
  let text = '[';
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (typeof event !== 'object' || event === null) return undefined;
    if (i > 0) text += ',';
    text += emitTimes.json(event as RunEvent) ?? JSON.stringify(event);
  }
  return `${text}]`;
}
