import { getEventListeners, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { wsBackpressure } from './wsBackpressure.ts';

const MESSAGE = 'x'.repeat(64 * 1024);
const closers: (() => void)[] = [];

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A real ws server and client on loopback; the client is paused, so the server's writes back up. */
async function pausedPair(opts: Parameters<typeof wsBackpressure>[2]) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const accepted = new Promise<{ ws: WebSocket; socket: Duplex }>((resolve) => {
    wss.on('connection', (ws) => {
      // biome-ignore lint/complexity/useLiteralKeys: the upgrade's socket, as http.ts gets it from the 'upgrade' event.
      const socket = (ws as unknown as { ['_socket']: Duplex })['_socket'];
      resolve({ ws, socket });
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await once(client, 'open');
  client.pause();
  const { ws, socket } = await accepted;
  closers.push(() => {
    client.terminate();
    wss.close();
  });
  return { client, ws, socket, whenWritable: wsBackpressure(ws, socket, opts) };
}

/** Sends until more than `bytes` wait unsent on the server (the kernel's buffers fill first), bounded. */
function sendUntilBuffered(ws: WebSocket, socket: Duplex, bytes: number): void {
  for (let i = 0; i < 4_000 && socket.writableLength <= bytes && ws.readyState === WebSocket.OPEN; i += 1) {
    ws.send(MESSAGE);
  }
}

describe('wsBackpressure', () => {
  it('says the connection is writable while little waits unsent', async () => {
    const { whenWritable } = await pausedPair({});
    expect(whenWritable(new AbortController().signal)).toBeUndefined();
  });

  it('makes a subscription wait while the reader is stuck, and lets it go on once the reader drains the socket, no listener left on its signal', async () => {
    const { client, ws, socket, whenWritable } = await pausedPair({ pauseAboveBytes: 256 * 1024 });
    sendUntilBuffered(ws, socket, 256 * 1024);
    expect(socket.writableLength).toBeGreaterThan(256 * 1024);
    const signal = new AbortController().signal;
    const wait = whenWritable(signal);
    expect(wait).toBeInstanceOf(Promise);
    let settled = false;
    void wait?.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    client.resume();
    await wait;
    expect(socket.writableLength).toBeLessThanOrEqual(256 * 1024);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('ends the wait when the subscription is aborted; one drain listener per connection however many wait', async () => {
    const { ws, socket, whenWritable } = await pausedPair({ pauseAboveBytes: 256 * 1024 });
    sendUntilBuffered(ws, socket, 256 * 1024);
    const controller = new AbortController();
    const before = socket.listenerCount('drain');
    const waits = [whenWritable(controller.signal), whenWritable(controller.signal)];
    // One shared drain wait per connection, however many subscriptions wait on it.
    expect(socket.listenerCount('drain')).toBe(before + 1);
    controller.abort();
    await Promise.all(waits);
    expect(whenWritable(controller.signal)).toBeUndefined();
  });

  it('terminates a connection whose reader stays stuck past the stall bound, ending the wait', async () => {
    const { client, ws, socket, whenWritable } = await pausedPair({ pauseAboveBytes: 256 * 1024, stalledAfterMs: 100 });
    sendUntilBuffered(ws, socket, 256 * 1024);
    const closed = once(ws, 'close');
    await whenWritable(new AbortController().signal);
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    client.resume();
  });

  it('terminates a connection holding more than the bound unsent instead of buffering without end', async () => {
    const { client, ws, socket } = await pausedPair({ terminateAboveBytes: 1024 * 1024 });
    const closed = once(ws, 'close');
    const clientClosed = once(client, 'close');
    sendUntilBuffered(ws, socket, 64 * 1024 * 1024);
    await closed;
    client.resume();
    await clientClosed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
