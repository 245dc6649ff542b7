/**
 * Connection-oriented listeners admit connections per source (RFC 5923-style
 * reuse notwithstanding, one peer may not hold the whole listener): past a
 * source's share or the listener's limit a new connection is closed at once
 * and counted; a connection that never sends a SIP message is closed at the
 * message deadline (64·T1); a WebSocket client that never upgrades is closed
 * at the handshake timeout.
 */
import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startServer, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await h?.stop();
  h = undefined;
});

interface Conn {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  readonly received: string[];
}

async function connect(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  const socket = createConnection({ host: '127.0.0.1', port, localAddress });
  sockets.push(socket);
  socket.on('error', () => undefined);
  let closed = false;
  const received: string[] = [];
  socket.on('data', (d: Buffer) => received.push(d.toString('latin1')));
  const closedP = new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, closed: closedP, isClosed: () => closed, received };
}

function options(port: number, localPort: number, n: number): string {
  return [
    `OPTIONS sip:127.0.0.1:${port};transport=tcp SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:${localPort};branch=z9hG4bK-adm-${n}`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=adm${n}`,
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: adm-${n}-${localPort}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('connection admission on stream listeners', () => {
  it('one source address past its share is closed at once and counted; another source is still served', async () => {
    h = await startServer({ connections: { maxPerSource: 3 } });
    const port = h.tcp.port;
    const held = [await connect(port), await connect(port), await connect(port)];
    await eventually(() => h!.server.status().sipConnections === 3, 10_000, 'three connections held');
    const before = h.server.status().refusedConnections;
    const fourth = await connect(port);
    await fourth.closed;
    expect(h.server.status().refusedConnections).toBe(before + 1);
    expect(held.some((c) => c.isClosed())).toBe(false);
    // A carrier at another address gets its connection and its answer.
    const carrier = await connect(port, '127.0.0.2');
    carrier.socket.write(options(port, carrier.socket.localPort!, 1));
    await eventually(() => carrier.received.join('').startsWith('SIP/2.0 '), 10_000, 'the answer to the other source');
  });

  it('a full listener closes the next connection at once and counts it', async () => {
    h = await startServer({ connections: { maxConnections: 2 } });
    const port = h.tcp.port;
    await connect(port, '127.0.0.3');
    await connect(port, '127.0.0.4');
    await eventually(() => h!.server.status().sipConnections === 2, 10_000, 'two connections held');
    const before = h.server.status().refusedConnections;
    const third = await connect(port, '127.0.0.5');
    await third.closed;
    expect(h.server.status().refusedConnections).toBe(before + 1);
  });

  it('a connection that sends no SIP message (keep-alives only) is closed at the message deadline; one that sent a message stays', async () => {
    h = await startServer({ timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
    const port = h.tcp.port;
    const talker = await connect(port);
    talker.socket.write(options(port, talker.socket.localPort!, 2));
    await eventually(() => talker.received.join('').startsWith('SIP/2.0 '), 10_000, 'the answer');
    const before = h.server.status().refusedConnections;
    const silent = await connect(port);
    silent.socket.write('\r\n\r\n');
    await silent.closed;
    expect(h.server.status().refusedConnections).toBe(before + 1);
    expect(talker.isClosed()).toBe(false);
    talker.socket.write(options(port, talker.socket.localPort!, 3));
    await eventually(() => talker.received.length >= 2, 10_000, 'a second answer on the same connection');
  });

  it('a client of the WebSocket listener that never sends its upgrade is closed at the handshake timeout', async () => {
    h = await startServer({ listen: [{ transport: 'ws', host: '127.0.0.1', port: 0 }], connections: { handshakeTimeoutMs: 500 } });
    const silent = await connect(h.listener('ws').port);
    // Node's HTTP server checked its header timeout every 30 s: such a client lived 30–40 s.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([silent.closed.then(() => 'closed'), new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open after 20 s'), 20_000)))]);
    clearTimeout(timer);
    expect(outcome).toBe('closed');
  });
});
