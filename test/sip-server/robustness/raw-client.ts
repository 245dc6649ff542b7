/**
 * A raw SIP client for robustness tests: a real UDP socket or TCP connection
 * on loopback that sends arbitrary bytes and records everything that comes
 * back without interpreting it, so that a malformed or unexpected answer is
 * seen as it is rather than thrown away.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import { StreamFramer } from '../../../src/sip-server/message/stream-framer.js';

export type Transport = 'UDP' | 'TCP';

export class RawClient {
  /** Every datagram, or every message framed from the stream, in arrival order. */
  readonly received: Buffer[] = [];
  /** Framing problems in what the server sent on the stream (must stay empty). */
  readonly streamErrors: string[] = [];
  port = 0;
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private closedFlag = false;
  private readonly closeWaiters: (() => void)[] = [];
  private readonly arrivalWaiters: (() => void)[] = [];

  private constructor(
    readonly transport: Transport,
    private readonly serverPort: number,
  ) {}

  static async open(transport: Transport, serverPort: number): Promise<RawClient> {
    const c = new RawClient(transport, serverPort);
    if (transport === 'UDP') {
      const s = createSocket('udp4');
      c.udp = s;
      s.on('message', (data) => c.arrived(data));
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
      c.port = s.address().port;
    } else {
      const sock = createConnection({ host: '127.0.0.1', port: serverPort });
      c.tcp = sock;
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('error', reject);
      });
      c.port = sock.localPort ?? 0;
      const framer = new StreamFramer(1 << 20);
      sock.on('data', (chunk: Buffer) => {
        for (const ev of framer.push(chunk)) {
          if (ev.type === 'message') c.arrived(ev.data);
          else if (ev.type === 'error') c.streamErrors.push(ev.reason);
        }
      });
      sock.on('error', () => undefined);
      sock.on('close', () => {
        c.closedFlag = true;
        for (const w of c.closeWaiters.splice(0)) w();
      });
    }
    return c;
  }

  private arrived(data: Buffer): void {
    this.received.push(data);
    for (const w of this.arrivalWaiters.splice(0)) w();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  async send(bytes: Buffer): Promise<void> {
    if (this.udp !== undefined) {
      const u = this.udp;
      await new Promise<void>((resolve, reject) => u.send(bytes, this.serverPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      return;
    }
    const t = this.tcp!;
    if (t.destroyed || this.closedFlag) throw new Error('connection closed');
    await new Promise<void>((resolve) => t.write(bytes, () => resolve()));
  }

  /** Resolves with the first received message (past or future) matching `pred`, or undefined after `timeoutMs`. */
  async waitFor(pred: (b: Buffer) => boolean, timeoutMs: number): Promise<Buffer | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit !== undefined) return hit;
      const left = end - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.arrivalWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves true once the server has closed the connection, false after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closedFlag) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  close(): void {
    this.udp?.close();
    this.udp = undefined;
    this.tcp?.destroy();
  }
}

/** The status code of a received response, or undefined for anything else. */
export function statusOf(b: Buffer): number | undefined {
  const m = /^SIP\/2\.0 (\d{3})/.exec(b.toString('latin1', 0, 16));
  return m === null ? undefined : Number(m[1]);
}

/** The first value of a header (long or compact name) in raw bytes, or undefined. */
export function headerOf(b: Buffer, long: string, compact?: string): string | undefined {
  const end = b.indexOf('\r\n\r\n');
  const head = b.toString('utf8', 0, end < 0 ? b.length : end);
  const names = compact === undefined ? long : `${long}|${compact}`;
  const m = new RegExp(`^(?:${names})[ \\t]*:[ \\t]*(.*)$`, 'im').exec(head);
  return m?.[1]?.trim();
}
