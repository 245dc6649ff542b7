/** The TCP transport's connections (src/sip-server/transport/stream-transport.ts), over real sockets. */
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamTransport } from '../../../src/sip-server/transport/stream-transport.js';
import type { SipConnection } from '../../../src/sip-server/transport/types.js';
import { eventually } from '../../support/harness.js';

const limits = { maxMessageBytes: 65_536, maxConnections: 100, maxPerSource: 100, idleTimeoutMs: 60_000, messageDeadlineMs: 10_000, handshakeTimeoutMs: 10_000, keepAliveMs: 30_000, maxBufferedBytes: 1 << 20 };
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('TCP connections', () => {
  it("a connection the peer ended (its FIN) takes no more writes: the next message to that peer opens a new connection at once, not at the socket's close", async () => {
    // The far end: a phone's TCP listener that keeps what each connection brings.
    const got: { conn: number; text: string }[] = [];
    const sockets: Socket[] = [];
    const phone = createServer((s) => {
      const n = sockets.push(s);
      s.on('data', (d: Buffer) => got.push({ conn: n, text: d.toString() }));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => phone.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => phone.close(() => r())));
    closers.push(() => sockets.forEach((s) => s.destroy()));
    const port = (phone.address() as { port: number }).port;

    const opened: SipConnection[] = [];
    const t = new StreamTransport({
      id: 0,
      transport: 'tcp',
      host: '127.0.0.1',
      port: 0,
      advertisedHost: undefined,
      limits,
      hooks: { onMessage: () => undefined, onStreamError: () => undefined, onConnection: (c, open) => void (open ? opened.push(c) : undefined), onRefused: () => undefined },
    });
    await t.start();
    closers.push(() => t.stop());
    t.send(Buffer.from('OPTIONS one\r\n\r\n'), { transport: 'tcp', address: '127.0.0.1', port });
    await eventually(() => got.length === 1 && opened.length === 1, 5000, 'the first message on its connection');
    const first = opened[0]!;
    // The phone hangs up its connection. The moment our side reads the FIN ('end'), the connection is done with;
    // that moment is made to happen now, before the socket has closed.
    const ours = (first as unknown as { socket: Socket }).socket;
    ours.emit('end');
    expect(first.closed).toBe(true);
    t.send(Buffer.from('ACK two\r\n\r\n'), { transport: 'tcp', address: '127.0.0.1', port, connectionId: first.id });
    await eventually(() => got.some((g) => g.text.startsWith('ACK two')), 5000, 'the second message, on a new connection');
    expect(got.find((g) => g.text.startsWith('ACK two'))!.conn).toBe(2);
  });
});
