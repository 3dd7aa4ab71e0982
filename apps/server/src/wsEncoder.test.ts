import { emitTimes, type RunEvent } from '@toolrun/api';
import { describe, expect, it } from 'vitest';
import type { DeliveryLatency, DeliveryTransport } from './deliveryLatency.ts';
import { createWsEncoder } from './wsEncoder.ts';

function thinking(seq: number): RunEvent {
  return {
    id: `run_1:${seq}`,
    seq,
    runId: 'run_1',
    userId: 'alice',
    threadId: 'thread_1',
    at: '2026-12-03T12:00:00.000Z',
    type: 'agent_thinking',
    text: `thought "${seq}" \u2028 ✓`,
    step: seq,
  };
}

/** A live event as the sink leaves it: its emit time noted before freezing, its row's text kept. */
function live(seq: number, keptText: (event: RunEvent) => string): RunEvent {
  const event = thinking(seq);
  emitTimes.note(event, performance.now());
  Object.freeze(event);
  emitTimes.keepJson(event, keptText(event));
  return event;
}

/** A subscription message exactly as tRPC's WebSocket adapter builds it for a tracked yield. */
function trackedMessage(id: number | string, jsonrpc: '2.0' | undefined, events: RunEvent[]) {
  const eventId = events.at(-1)?.id ?? '';
  return { id, jsonrpc, result: { type: 'data', data: { id: eventId, data: events }, id: eventId } };
}

function recorder(): DeliveryLatency & { calls: [DeliveryTransport, number][] } {
  const calls: [DeliveryTransport, number][] = [];
  return { calls, delivered: (transport, events) => calls.push([transport, events.length]) };
}

describe('the WebSocket encoder', () => {
  it("writes a subscription message's events from the text their rows were stored with", () => {
    const encoder = createWsEncoder(recorder());
    // Kept with other whitespace (still the same JSON), so the test sees which text was sent.
    const events = [live(1, (e) => JSON.stringify(e, null, 1)), live(2, (e) => JSON.stringify(e, null, 1))];
    const text = encoder.encode(trackedMessage(7, '2.0', events));
    expect(text).toContain(JSON.stringify(events[0], null, 1));
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(trackedMessage(7, '2.0', events))));
  });

  it('gives byte for byte what JSON.stringify gives, kept text or not, with or without jsonrpc', () => {
    const encoder = createWsEncoder(recorder());
    const kept = [live(3, (e) => JSON.stringify(e)), live(4, (e) => JSON.stringify(e))];
    const stored = [thinking(5), thinking(6)];
    for (const message of [
      trackedMessage(1, '2.0', kept),
      trackedMessage('abc', undefined, kept),
      trackedMessage(2, undefined, stored),
      trackedMessage(3, '2.0', [...stored, ...kept]),
    ]) {
      expect(encoder.encode(message)).toBe(JSON.stringify(message));
    }
  });

  it('times the events of subscription messages only, and leaves every other message to JSON.stringify', () => {
    const latency = recorder();
    const encoder = createWsEncoder(latency);
    const others = [
      { id: 1, jsonrpc: '2.0', result: { type: 'started' } },
      { id: 1, jsonrpc: undefined, result: { type: 'stopped' } },
      { id: 2, jsonrpc: '2.0', result: { type: 'data', data: { answer: 42 } } },
      { id: null, error: { message: 'nope', code: -32600 } },
      { id: null, method: 'reconnect' },
    ];
    for (const message of others) expect(encoder.encode(message)).toBe(JSON.stringify(message));
    expect(latency.calls).toEqual([]);
    encoder.encode(trackedMessage(3, '2.0', [thinking(7), thinking(8)]));
    expect(latency.calls).toEqual([['ws', 2]]);
  });

  it('decodes text frames and refuses binary ones', () => {
    const encoder = createWsEncoder(recorder());
    expect(encoder.decode('{"id":1}')).toEqual({ id: 1 });
    expect(() => encoder.decode(Buffer.from('{}'))).toThrow('expected a JSON text frame');
  });
});
