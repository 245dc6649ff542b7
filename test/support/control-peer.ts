/**
 * A scripted drachtio control-channel peer: it speaks the framing
 * (`<bytes>#<payload>`) over TCP like drachtio-srf does, so tests can send
 * exact frames and assert exact replies without the library in between.
 */
import { randomUUID } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';

export interface Frame {
  readonly payload: string;
  readonly tokens: readonly string[];
  readonly sip: string | undefined;
}

export class ControlPeer {
  readonly frames: Frame[] = [];
  private buf = Buffer.alloc(0);
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed = false;
  private readonly consumed = new Set<Frame>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<ControlPeer> {
    const s = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    return new ControlPeer(s);
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const hash = this.buf.indexOf(0x23);
      if (hash < 0) return;
      const len = Number(this.buf.toString('latin1', 0, hash));
      if (this.buf.length < hash + 1 + len) return;
      const payload = this.buf.toString('utf8', hash + 1, hash + 1 + len);
      this.buf = this.buf.subarray(hash + 1 + len);
      const cr = payload.indexOf('\r\n');
      const frame: Frame = { payload, tokens: (cr < 0 ? payload : payload.slice(0, cr)).split('|'), sip: cr < 0 ? undefined : payload.slice(cr + 2) };
      this.frames.push(frame);
      const w = this.waiters.find((x) => x.pred(frame));
      if (w !== undefined) {
        this.waiters = this.waiters.filter((x) => x !== w);
        this.consumed.add(frame);
        w.resolve(frame);
      }
    }
  }

  /** Sends `<id>|<rest>[\r\n<sip>]` and returns the id. */
  send(rest: string, sip?: string, id = randomUUID()): string {
    const payload = `${id}|${rest}${sip !== undefined ? `\r\n${sip}` : ''}`;
    this.socket.write(`${Buffer.byteLength(payload)}#${payload}`);
    return id;
  }

  /** Writes raw bytes (for framing tests). */
  writeRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  wait(pred: (f: Frame) => boolean, timeoutMs = 10_000, what = 'frame'): Promise<Frame> {
    const found = this.frames.find((f) => pred(f) && !this.consumed.has(f));
    if (found !== undefined) {
      this.consumed.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; frames:\n${this.frames.map((f) => f.tokens.join('|')).join('\n')}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** The `response` frame answering message `id`. */
  reply(id: string, timeoutMs?: number): Promise<Frame> {
    return this.wait((f) => f.tokens[1] === 'response' && f.tokens[2] === id, timeoutMs, `reply to ${id}`);
  }

  /**
   * A ping round trip. The server writes frames to a connection in order, so once the pong is
   * here every frame it sent before reading the ping is in `frames`: a test that something was
   * not forwarded waits on this instead of sleeping.
   */
  async barrier(): Promise<void> {
    await this.reply(this.send('ping'));
  }

  async authenticate(secret: string): Promise<Frame> {
    return this.reply(this.send(`authenticate|${secret}|`));
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connection not closed')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
