/**
 * What rtpengine tells us without being asked, measured on Debian's 10.5:
 *
 * - DTMF (`dtmf-log-dest = host:port`): one JSON datagram per RFC 4733
 *   telephone-event a party sends, e.g. `{"callid":"c1","source_tag":"caller",
 *   "type":"DTMF","event":5,"duration":120,...}`. The source tag is our party
 *   label, so a digit is known by call and party.
 * - Media timeout (`b2b-url = http://host:port/...`, `xmlrpc-format = 1`):
 *   when a call has had no RTP in any direction for `timeout` seconds (or for
 *   `silent-timeout` while on hold), rtpengine closes it and posts an XML-RPC
 *   `teardown(call-id)` to the B2BUA. rtpengine has no other event channel in
 *   10.5, and polling `list` does not scale past one UDP datagram of call ids.
 *
 * Both listeners bind before rtpengine starts, so the embedded rtpengine's
 * config names them; external instances are configured to point here.
 */
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Logger } from '../../observability/logger.js';

export interface RtpengineDtmf {
  readonly callId: string;
  /** The party that sent it (our label). */
  readonly label: string;
  /** RFC 4733 event code (0-9, 10 = *, 11 = #, 12-15 = A-D). */
  readonly event: number;
  readonly durationMs: number | undefined;
}

export interface RtpengineNotificationEvents {
  dtmf: [RtpengineDtmf];
  /** rtpengine closed the call for lack of media. */
  timeout: [callId: string];
}

/** The first string parameter of an XML-RPC `teardown` call (xmlrpc-format 1: the call id only). */
export function parseTeardown(xml: string): string | undefined {
  const method = /<methodName>\s*([^<\s]+)\s*<\/methodName>/.exec(xml);
  if (method?.[1] !== 'teardown') return undefined;
  const param = /<param>\s*<value>\s*(?:<string>([^<]*)<\/string>|([^<]*))\s*<\/value>\s*<\/param>/.exec(xml);
  const raw = param?.[1] ?? param?.[2];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .trim()
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#([0-9]+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

/** One DTMF log datagram, or undefined when it is not one. */
export function parseDtmfLog(text: string): RtpengineDtmf | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.callid !== 'string' || typeof v.source_tag !== 'string' || typeof v.event !== 'number') return undefined;
  if (v.type !== undefined && v.type !== 'DTMF') return undefined;
  return { callId: v.callid, label: v.source_tag, event: v.event, durationMs: typeof v.duration === 'number' ? v.duration : undefined };
}

const XMLRPC_OK = '<?xml version="1.0"?><methodResponse><params><param><value><string>ok</string></value></param></params></methodResponse>';
const MAX_BODY = 64 * 1024;

export class RtpengineNotifications extends EventEmitter<RtpengineNotificationEvents> {
  private constructor(
    private readonly dtmfSocket: Socket,
    private readonly http: Server,
    readonly host: string,
  ) {
    super();
  }

  /** Binds both listeners on `host` (ports 0 pick free ones). */
  static async start(options: { host: string; dtmfPort: number; timeoutPort: number; logger: Logger }): Promise<RtpengineNotifications> {
    const { host, logger } = options;
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.dtmfPort, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const http = createServer();
    const self = new RtpengineNotifications(socket, http, host);
    socket.on('message', (msg) => {
      const dtmf = parseDtmfLog(msg.toString('utf8'));
      if (dtmf !== undefined) self.emit('dtmf', dtmf);
      else logger.debug({ bytes: msg.length }, 'unrecognised rtpengine DTMF datagram');
    });
    socket.on('error', (e) => logger.warn({ err: e.message }, 'rtpengine DTMF listener error'));
    http.on('request', (req, res) => {
      let body = '';
      let tooLarge = false;
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        if (body.length + chunk.length > MAX_BODY) tooLarge = true;
        else body += chunk;
      });
      req.on('end', () => {
        if (req.method !== 'POST' || tooLarge) {
          res.writeHead(req.method !== 'POST' ? 405 : 413).end();
          return;
        }
        const callId = parseTeardown(body);
        if (callId !== undefined) self.emit('timeout', callId);
        else logger.warn({ bytes: body.length }, 'unrecognised XML-RPC request from rtpengine');
        res.writeHead(200, { 'content-type': 'text/xml' }).end(XMLRPC_OK);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.timeoutPort, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      socket.close();
      throw e;
    }
    return self;
  }

  private get bracketed(): string {
    return this.host.includes(':') ? `[${this.host}]` : this.host;
  }

  /** For rtpengine's `dtmf-log-dest`. */
  get dtmfDestination(): string {
    return `${this.bracketed}:${this.dtmfSocket.address().port}`;
  }

  /** For rtpengine's `b2b-url` (with `xmlrpc-format = 1`). */
  get teardownUrl(): string {
    const a = this.http.address();
    return `http://${this.bracketed}:${typeof a === 'object' && a !== null ? a.port : 0}/rtpengine`;
  }

  async close(): Promise<void> {
    this.dtmfSocket.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
