import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { WriteCoalescer } from '../../src/realtime/writeCoalescer.js';
import { until } from '../helpers/wait.js';

/** A real ws server whose sockets write through a coalescer, and a real client connected to it. */
async function pair(coalescer = new WriteCoalescer()) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const accepted = new Promise<WebSocket>((resolve) =>
    wss.once('connection', (socket: WebSocket, request: IncomingMessage) => {
      coalescer.attach(socket, request.socket);
      resolve(socket);
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  const received: string[] = [];
  client.on('message', (d) => received.push(String(d)));
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
  await new Promise((r) => client.once('open', r));
  const server = await accepted;
  open.push({ wss, client });
  return { coalescer, server, client, received, closed };
}

const open: { wss: WebSocketServer; client: WebSocket }[] = [];
afterEach(async () => {
  for (const { wss, client } of open.splice(0)) {
    client.terminate();
    await new Promise((r) => wss.close(r));
  }
});

describe('coalesced WebSocket writes', () => {
  it('delivers a burst in order, each message whole and on its own, and calls every send callback', async () => {
    const { server, received } = await pair();
    const acked: number[] = [];
    for (let i = 0; i < 2000; i++) server.send(JSON.stringify({ i, pad: 'x'.repeat(i % 300) }), () => acked.push(i));
    server.send(Buffer.from('binary as text'), { binary: false });
    await until(() => received.length === 2001);
    expect(received.slice(0, 2000).map((m) => JSON.parse(m).i)).toEqual([...Array(2000).keys()]);
    expect(received[2000]).toBe('binary as text');
    await until(() => acked.length === 2000);
    expect(acked).toEqual([...Array(2000).keys()]);
  });

  it('frames a text message once for many sockets, at every length a frame header takes, in order with plain sends', async () => {
    const coalescer = new WriteCoalescer();
    const a = await pair(coalescer);
    const b = await pair(coalescer);
    const payloads = [10, 125, 126, 300, 65_535, 65_536, 200_000].map((n) => Buffer.from('é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2)));
    for (const p of payloads) {
      for (const { server } of [a, b]) coalescer.sendText(server, p);
      a.server.send('plain');
    }
    const expected = payloads.map((p) => p.toString('utf8'));
    await until(() => a.received.length === expected.length * 2 && b.received.length === expected.length);
    expect(b.received).toEqual(expected);
    expect(a.received).toEqual(expected.flatMap((m) => [m, 'plain']));
  });

  it('writes what is queued before a close frame', async () => {
    const { server, received, closed } = await pair();
    for (let i = 0; i < 100; i++) server.send(`m${i}`);
    server.close(4400, 'bye');
    expect(await closed).toBe(4400);
    expect(received).toEqual([...Array(100).keys()].map((i) => `m${i}`));
  });

  it('holds back a reader that stops reading: the socket is full until it reads again, then everything arrives', async () => {
    const { coalescer, server, client, received } = await pair(new WriteCoalescer({ highWaterBytes: 256 * 1024 }));
    client.pause();
    const chunk = 'y'.repeat(64 * 1024);
    let sent = 0;
    // Until the kernel's buffers are full and Node's own buffer holds more than the mark.
    while (server.bufferedAmount < 256 * 1024 && sent < 4000) {
      server.send(`${sent}:${chunk}`);
      sent++;
      if (sent % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    expect(coalescer.full(server)).toBe(true);
    let drained = false;
    const waiting = coalescer.drained(server).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(drained).toBe(false);
    client.resume();
    await waiting;
    await until(() => received.length === sent);
    expect(received.map((m) => Number(m.slice(0, m.indexOf(':'))))).toEqual([...Array(sent).keys()]);
  });

  it('releases a waiting sender when its socket closes, and takes sends after that without throwing', async () => {
    const { coalescer, server, client } = await pair(new WriteCoalescer({ highWaterBytes: 64 * 1024 }));
    client.pause();
    const chunk = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 4000 && server.bufferedAmount < 64 * 1024; i++) {
      server.send(chunk);
      if (i % 16 === 15) await new Promise((r) => setTimeout(r, 1));
    }
    expect(coalescer.full(server)).toBe(true);
    const waiting = coalescer.drained(server);
    server.terminate();
    await waiting;
    const errors: unknown[] = [];
    expect(() => server.send('late', (err) => errors.push(err))).not.toThrow();
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(Error);
  });
});
