/**
 * A scriptable SIP peer for tests: a real UDP or TCP socket on loopback that
 * sends raw SIP text and collects everything it receives, so tests can check
 * exactly what went on the wire. Messages are parsed with our own parser for
 * convenience; the raw text is kept for byte-level assertions.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { parseMessage, type MessageInfo } from '../../src/sip-server/message/parser.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip-server/message/sip-message.js';
import { StreamFramer } from '../../src/sip-server/message/stream-framer.js';

export interface Received {
  readonly raw: string;
  readonly bytes: Buffer;
  readonly message: SipMessage;
  readonly info: MessageInfo;
  readonly from: { address: string; port: number };
  readonly at: number;
}

export type Transport = 'udp' | 'tcp' | 'tls';

/** A TLS peer's certificate and trust (PEM contents). */
export interface PeerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA that the server's (and clients') certificates must chain to. */
  readonly ca: Buffer;
  /** Name to verify the server's certificate against (default: the address dialled). */
  readonly servername?: string;
  /** As a TLS server, ask connecting clients for their certificate. */
  readonly requestCert?: boolean;
  /** Another certificate for the connections it opens (default: `cert`). */
  readonly client?: { readonly cert: Buffer; readonly key: Buffer };
}

let seq = 0;
export function uniq(prefix: string): string {
  seq++;
  return `${prefix}${process.pid}x${seq}x${Math.floor(Math.random() * 1e6)}`;
}

/**
 * RFC 7983 §7: a first byte of 0–3 is STUN, 128–191 RTP or RTCP; SIP starts with a letter (or CRLF
 * keep-alives). DTLS (20–63) is left out: that range holds digits and spaces, which must still fail
 * as malformed SIP.
 */
export function isMediaDatagram(data: Buffer): boolean {
  const b = data[0];
  return b !== undefined && (b <= 3 || (b >= 128 && b <= 191));
}

export class SipPeer {
  readonly received: Received[] = [];
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  private udp: UdpSocket | undefined;
  private tcpServer: Server | undefined;
  private tcpConns = new Set<Socket>();
  private outConn: Socket | undefined;
  port = 0;
  /** Drop every received message matching this (to simulate loss). */
  dropIf: ((r: Received) => boolean) | undefined;
  /** TLS server: the subject CN of each client certificate presented to it. */
  readonly clientCertificates: string[] = [];
  /** TLS or TCP server: connections accepted so far. */
  accepted = 0;
  /**
   * UDP datagrams that were RTP, RTCP or STUN, not SIP (told apart by their first byte, RFC 7983 §7),
   * dropped as a phone would: our ephemeral port may be one a media stream of another test,
   * still running, was sent to before it was closed and handed out again.
   */
  strayMediaDatagrams = 0;
  /** Called for every message kept (after dropIf), e.g. to ACK answers as a real UA would. */
  onMessage: ((r: Received) => void) | undefined;

  private constructor(
    readonly transport: Transport,
    readonly host: string,
    private readonly tls?: PeerTls,
  ) {}

  /** The host as it appears in a URI or Via (IPv6 in brackets). */
  get uriHost(): string {
    return this.host.includes(':') ? `[${this.host}]` : this.host;
  }

  static async create(transport: Transport = 'udp', host = '127.0.0.1', tls?: PeerTls): Promise<SipPeer> {
    if (transport === 'tls' && tls === undefined) throw new Error('a TLS peer needs a certificate');
    const p = new SipPeer(transport, host, tls);
    await p.start();
    return p;
  }

  private async start(): Promise<void> {
    if (this.transport === 'udp') {
      const s = createSocket({ type: this.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
      this.udp = s;
      s.on('message', (data, rinfo) => {
        if (isMediaDatagram(data)) {
          this.strayMediaDatagrams++;
          return;
        }
        this.onData(data, { address: rinfo.address, port: rinfo.port });
      });
      await new Promise<void>((resolve) => s.bind(0, this.host, () => resolve()));
      this.port = s.address().port;
    } else {
      const t = this.tls;
      const server = t !== undefined ? createTlsServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: t.requestCert === true, rejectUnauthorized: false }, (c) => {
              const cn = c.getPeerCertificate().subject?.CN;
              if (typeof cn === 'string') this.clientCertificates.push(cn);
              this.track(c);
            }) : createServer((c) => this.track(c));
      this.tcpServer = server;
      await new Promise<void>((resolve) => server.listen(0, this.host, () => resolve()));
      const addr = server.address();
      this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    }
  }

  private track(c: Socket, accepted = true): void {
    if (accepted) this.accepted++;
    this.tcpConns.add(c);
    const framer = new StreamFramer(1 << 20);
    c.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) if (ev.type === 'message') this.onData(ev.data, { address: c.remoteAddress ?? '', port: c.remotePort ?? 0 });
    });
    c.on('error', () => undefined);
    c.on('close', () => this.tcpConns.delete(c));
  }

  private onData(bytes: Buffer, from: { address: string; port: number }): void {
    const parsed = parseMessage(bytes);
    if (!parsed.ok) throw new Error(`peer received unparseable SIP (${parsed.reason}):\n${bytes.toString()}`);
    const r: Received = { raw: bytes.toString('utf8'), bytes, message: parsed.message, info: parsed.info, from, at: Date.now() };
    if (this.dropIf?.(r) === true) return;
    this.received.push(r);
    this.onMessage?.(r);
    const still: typeof this.waiters = [];
    let consumed = false;
    for (const w of this.waiters) {
      if (!consumed && w.pred(r)) {
        consumed = true;
        w.resolve(r);
      } else still.push(w);
    }
    this.waiters = still;
  }

  /** Sends raw SIP text (LF line endings are turned into CRLF unless `raw`). */
  async send(text: string | Buffer, to: { host?: string; port: number }, raw = false): Promise<void> {
    const data = Buffer.isBuffer(text) ? text : Buffer.from(raw ? text : text.replace(/\r?\n/g, '\r\n'), 'utf8');
    if (this.transport === 'udp') {
      await new Promise<void>((resolve, reject) => this.udp!.send(data, to.port, to.host ?? this.host, (e) => (e ? reject(e) : resolve())));
      return;
    }
    const existing = [...this.tcpConns].find((c) => c.remotePort === to.port) ?? this.outConn;
    if (existing !== undefined && !existing.destroyed) {
      existing.write(data);
      return;
    }
    const t = this.tls;
    const host = to.host ?? this.host;
    const c =
      t !== undefined
        ? tlsConnect({ host, port: to.port, cert: t.client?.cert ?? t.cert, key: t.client?.key ?? t.key, ca: t.ca, ...(t.servername !== undefined ? { servername: t.servername } : { checkServerIdentity: () => undefined }) })
        : createConnection({ host, port: to.port });
    await new Promise<void>((resolve, reject) => {
      c.once(t !== undefined ? 'secureConnect' : 'connect', () => resolve());
      c.once('error', reject);
    });
    this.outConn = c;
    this.track(c, false);
    c.write(data);
  }

  /** TCP/TLS: closes (FIN) the connections this peer accepted, as a phone that hangs up its connection after a response. */
  endAccepted(): void {
    for (const c of this.tcpConns) if (c !== this.outConn) c.end();
  }

  /** TCP/TLS: closes the connection this peer opened (its next send opens another). */
  dropOutgoing(): void {
    this.outConn?.destroy();
    this.outConn = undefined;
  }

  /** Resolves with the first already-received or future message matching `pred` (each message satisfies one wait). */
  wait(pred: (r: Received) => boolean, timeoutMs = 10_000, what = 'message'): Promise<Received> {
    const i = this.received.findIndex((r) => pred(r) && !this.consumed.has(r));
    if (i >= 0) {
      this.consumed.add(this.received[i]!);
      return Promise.resolve(this.received[i]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received:\n${this.received.map((r) => firstLine(r.raw)).join('\n')}`));
      }, timeoutMs);
      const done = (r: Received): void => {
        clearTimeout(timer);
        this.consumed.add(r);
        resolve(r);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  private readonly consumed = new Set<Received>();

  waitRequest(method: string, timeoutMs?: number): Promise<Received & { message: SipRequest }> {
    return this.wait((r) => r.message.kind === 'request' && r.message.method === method, timeoutMs, `${method} request`) as Promise<Received & { message: SipRequest }>;
  }

  /**
   * The next new `method` transaction: like waitRequest, but skipping retransmissions of requests
   * already taken (same Call-ID, CSeq and branch), which a busy machine's short T1 makes likely.
   */
  nextRequest(method: string, timeoutMs?: number): Promise<Received & { message: SipRequest }> {
    const key = (r: Received): string => `${r.info.callId}|${r.info.cseq}|${r.info.via.branch}`;
    return this.wait(
      (r) => {
        if (r.message.kind !== 'request' || r.message.method !== method) return false;
        const k = key(r);
        for (const taken of this.consumed) if (taken.message.kind === 'request' && taken.message.method === method && key(taken) === k) return false;
        return true;
      },
      timeoutMs,
      `a new ${method} request`,
    ) as Promise<Received & { message: SipRequest }>;
  }

  waitResponse(status: number, cseqMethod?: string, timeoutMs?: number): Promise<Received & { message: SipResponse }> {
    return this.wait(
      (r) => r.message.kind === 'response' && r.message.status === status && (cseqMethod === undefined || r.info.cseqMethod === cseqMethod),
      timeoutMs,
      `${status} ${cseqMethod ?? ''} response`,
    ) as Promise<Received & { message: SipResponse }>;
  }

  /** Asserts nothing matching arrives within `ms`. Returns the matches (empty when quiet). */
  async quiet(pred: (r: Received) => boolean, ms: number): Promise<Received[]> {
    const start = this.received.length;
    await new Promise((r) => setTimeout(r, ms));
    return this.received.slice(start).filter(pred);
  }

  count(pred: (r: Received) => boolean): number {
    return this.received.filter(pred).length;
  }

  async close(): Promise<void> {
    this.udp?.close();
    for (const c of this.tcpConns) c.destroy();
    this.outConn?.destroy();
    if (this.tcpServer !== undefined) await new Promise<void>((resolve) => this.tcpServer!.close(() => resolve()));
  }
}

export function firstLine(text: string): string {
  return text.split('\r\n')[0] ?? '';
}

export interface RequestParams {
  readonly method: string;
  readonly uri: string;
  readonly peer: SipPeer;
  readonly callId?: string;
  readonly fromTag?: string;
  readonly toTag?: string;
  readonly cseq?: number;
  readonly branch?: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly extra?: readonly string[];
  readonly to?: string;
  readonly contact?: string | null;
}

/** Builds a well-formed request from `peer` (Via with rport, Contact at the peer). */
export function request(p: RequestParams): string {
  const h = p.peer.uriHost;
  const via = `SIP/2.0/${p.peer.transport.toUpperCase()} ${h}:${p.peer.port};branch=${p.branch ?? `z9hG4bK${uniq('b')}`};rport`;
  const to = p.to ?? `<${p.uri}>`;
  const body = p.body ?? '';
  const lines = [
    `${p.method} ${p.uri} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: "Test Caller" <sip:caller@${h}:${p.peer.port}>;tag=${p.fromTag ?? uniq('f')}`,
    `To: ${to}${p.toTag !== undefined ? `;tag=${p.toTag}` : ''}`,
    `Call-ID: ${p.callId ?? uniq('call')}`,
    `CSeq: ${p.cseq ?? 1} ${p.method}`,
    ...(p.contact === null ? [] : [`Contact: ${p.contact ?? `<sip:caller@${h}:${p.peer.port}${p.peer.transport === 'udp' ? '' : `;transport=${p.peer.transport}`}>`}`]),
    ...(p.extra ?? []),
    ...(body !== '' ? [`Content-Type: ${p.contentType ?? 'application/sdp'}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** A response to a received request, copying Via/From/To/Call-ID/CSeq (RFC 3261 §8.2.6.2). */
export function respond(req: Received, status: number, reason: string, opts: { toTag?: string; body?: string; extra?: readonly string[]; contact?: string } = {}): string {
  const h = req.message.headers;
  const to = h.get('to') ?? '';
  const vias = h.values('via');
  const body = opts.body ?? '';
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...vias.map((v) => `Via: ${v}`),
    `From: ${h.get('from') ?? ''}`,
    `To: ${opts.toTag !== undefined && !/;tag=/.test(to) ? `${to};tag=${opts.toTag}` : to}`,
    `Call-ID: ${h.get('call-id') ?? ''}`,
    `CSeq: ${h.get('cseq') ?? ''}`,
    ...(opts.contact !== undefined ? [`Contact: ${opts.contact}`] : []),
    ...(opts.extra ?? []),
    ...(body !== '' ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

export function sdp(port: number, direction = 'sendrecv', version = 1): string {
  return ['v=0', `o=- 42 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=${direction}`, ''].join('\r\n');
}
