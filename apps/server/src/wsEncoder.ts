import type { DeliveryLatency } from './deliveryLatency.ts';
import { liveEventsJson } from './liveEventsJson.ts';

/** What tRPC's WebSocket adapter accepts as `experimental_encoder`. */
export interface WsEncoder {
  encode(data: unknown): string;
  decode(data: unknown): unknown;
}

/**
 * tRPC's JSON encoder for the WebSocket adapter, with two additions for subscription messages
 * (`{ id, jsonrpc, result: { type: 'data', data: { id, data: events }, id } }`): their events are
 * written from the text their rows were stored with ({@link liveEventsJson}), and they are timed
 * for `toolrun_event_delivery_seconds`: the adapter hands the text to `ws.send` as soon as `encode`
 * returns, so this is the moment the message reaches the socket. Every other message is
 * `JSON.stringify`'d as tRPC's own encoder does; the text is the same either way.
 */
export function createWsEncoder(latency: DeliveryLatency): WsEncoder {
  return {
    encode(message) {
      const tracked = trackedMessageOf(message);
      if (tracked === undefined) return JSON.stringify(message);
      const text =
        trackedFrame(tracked.id, tracked.jsonrpc, tracked.eventId, tracked.events) ?? JSON.stringify(message);
      latency.delivered('ws', tracked.events);
      return text;
    },
    decode(data) {
      if (typeof data !== 'string') throw new Error('expected a JSON text frame');
      return JSON.parse(data);
    },
  };
}

/**
 * The text of tRPC's WebSocket message for a tracked subscription yield (`tracked(eventId, events)`
 * of subscription `id`), byte for byte `JSON.stringify` of the message tRPC's adapter builds
 * (`{ id, jsonrpc, result: { type: 'data', data: { id, data }, id } }`, `jsonrpc` left out when
 * undefined), with the events written from their rows' text ({@link liveEventsJson}). `undefined`
 * when `events` holds anything but objects: the caller serialises the message itself. Only for a
 * router without a transformer.
 */
export function trackedFrame(
  id: number | string,
  jsonrpc: unknown,
  eventId: string,
  events: readonly unknown[],
): string | undefined {
  const json = liveEventsJson(events);
  if (json === undefined) return undefined;
  const quotedEventId = JSON.stringify(eventId);
  return (
    `{"id":${JSON.stringify(id)}${jsonrpc === undefined ? '' : `,"jsonrpc":${JSON.stringify(jsonrpc)}`},` +
    `"result":{"type":"data","data":{"id":${quotedEventId},"data":${json}},"id":${quotedEventId}}}`
  );
}

interface TrackedMessage {
  id: number | string;
  jsonrpc: unknown;
  eventId: string;
  events: readonly unknown[];
}

/**
 * The parts of a tracked subscription message, exactly as tRPC's adapter builds it (these keys, in
 * this order, and no others), or `undefined` for any other message.
 */
function trackedMessageOf(message: unknown): TrackedMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const keys = Object.keys(message);
  if (keys.length !== 3 || keys[0] !== 'id' || keys[1] !== 'jsonrpc' || keys[2] !== 'result') return undefined;
  const { id, jsonrpc, result } = message as { id: unknown; jsonrpc: unknown; result: unknown };
  if (typeof result !== 'object' || result === null) return undefined;
  const resultKeys = Object.keys(result);
  if (resultKeys.length !== 3 || resultKeys[0] !== 'type' || resultKeys[1] !== 'data' || resultKeys[2] !== 'id')
    return undefined;
  const { type, data, id: eventId } = result as { type: unknown; data: unknown; id: unknown };
  if (type !== 'data' || typeof eventId !== 'string' || typeof data !== 'object' || data === null) return undefined;
  const dataKeys = Object.keys(data);
  if (dataKeys.length !== 2 || dataKeys[0] !== 'id' || dataKeys[1] !== 'data') return undefined;
  const tracked = data as { id: unknown; data: unknown };
  if (tracked.id !== eventId || !Array.isArray(tracked.data)) return undefined;
  if (typeof id !== 'number' && typeof id !== 'string') return undefined;
  if (jsonrpc !== undefined && jsonrpc !== '2.0') return undefined;
  return { id, jsonrpc, eventId, events: tracked.data };
}
