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
      const events = liveEventsJson(tracked.events);
      const text =
        events === undefined
          ? JSON.stringify(message)
          : `{"id":${JSON.stringify(tracked.id)}${tracked.jsonrpc === undefined ? '' : `,"jsonrpc":${JSON.stringify(tracked.jsonrpc)}`},` +
            `"result":{"type":"data","data":{"id":${JSON.stringify(tracked.eventId)},"data":${events}},"id":${JSON.stringify(tracked.eventId)}}}`;
      latency.delivered('ws', tracked.events);
      return text;
    },
    decode(data) {
      if (typeof data !== 'string') throw new Error('expected a JSON text frame');
      return JSON.parse(data);
    },
  };
}

interface TrackedMessage {
  id: unknown;
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
