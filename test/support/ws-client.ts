/**
 * WebSocket clients for SIP-over-WebSocket tests (RFC 7118): one built on the
 * `ws` library (frames as a browser would send them, every message kept, the
 * close code seen), and a bare one on a TCP socket that performs the HTTP
 * upgrade itself and then writes hand-made frames, byte by byte if asked.
 */
import { createConnection, type Socket } from 'node:net';
import { WebSocket, type ClientOptions, type RawData } from 'ws';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class WsSipClient {
  /** Every message received, as text. */
  readonly received: string[] = [];
  private closedWith: Closed | undefined;
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      this.received.push(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closedWith = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Opens `url` offering the `sip` subprotocol (or `protocols`). */
  static open(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<WsSipClient> {
    const { protocols = ['sip'], ...rest } = options;
    const ws = new WebSocket(url, protocols, rest);
    const c = new WsSipClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** The address and port the server sees us at. */
  get localPort(): number {
    return (this.ws as unknown as { _socket: Socket })._socket.localPort ?? 0;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The first message (past or future) matching `pred`, or undefined after `timeoutMs`. */
  async waitFor(pred: (m: string) => boolean, timeoutMs = 10_000): Promise<string | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit !== undefined || Date.now() >= end) return hit;
      await this.nap(end - Date.now());
    }
  }

  /** How the connection closed, or undefined if still open after `timeoutMs`. */
  async waitClosed(timeoutMs = 10_000): Promise<Closed | undefined> {
    const end = Date.now() + timeoutMs;
    while (this.closedWith === undefined && Date.now() < end) await this.nap(end - Date.now());
    return this.closedWith;
  }

  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(1, ms));
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A masked client frame (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const ext = len > 65535 ? 8 : len > 125 ? 2 : 0;
  const head = Buffer.alloc(2 + ext + 4);
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = 0x80 | (ext === 8 ? 127 : ext === 2 ? 126 : len);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  mask.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, body]);
}

/** A TCP socket that has completed the WebSocket upgrade for `sip`, ready for hand-made frames. */
export async function rawWebSocket(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    [
      'GET / HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Protocol: sip',
      '',
      '',
    ].join('\r\n'),
  );
  await new Promise<void>((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (got.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${got.split('\r\n')[0] ?? ''}`));
    };
    socket.on('data', onData);
  });
  return { socket, closed };
}
