/**
 * Client for rtpengine's ng control protocol (rtpengine documentation,
 * "ng Control Protocol"): each message is `<cookie> <bencoded dictionary>`
 * over UDP, and the reply carries the same cookie.
 *
 * UDP loses datagrams, so a request is retransmitted with the same cookie
 * until a reply arrives or its time budget runs out; rtpengine keeps a cache of
 * recent cookies and answers a retransmission with its first reply instead of
 * executing the command twice. Pending requests live in one map keyed by
 * cookie: a reply for a cookie no longer pending (a late duplicate) is
 * dropped, and closing the client rejects everything still pending.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import type { Logger } from '../../observability/logger.js';
import { metrics } from '../../observability/metrics.js';
import { RtpengineClosedError, RtpengineError, RtpengineProtocolError, RtpengineTimeoutError } from '../media-errors.js';
import { bdecode, bencode, bencodeToText, type BencodeValue, type TextBencode } from './bencode.js';
import { REQUIRED_REPLY_FIELDS, type NgCommand, type NgRequest, type NgResponse } from './ng-types.js';

export interface NgClientOptions {
  readonly host: string;
  readonly port: number;
  /** Total time a request may take, retransmissions included (default 3000 ms). */
  readonly timeoutMs?: number;
  /** Wait before the first retransmission of an unanswered request (default 500 ms); each next one doubles, up to 4×. */
  readonly retransmitMs?: number;
  readonly logger: Logger;
}

export interface NgRequestOptions {
  /** Overrides the client's time budget for this request. */
  readonly timeoutMs?: number;
}

/** Counters for diagnostics and tests. */
export interface NgClientStats {
  requests: number;
  retransmits: number;
  timeouts: number;
  /** Replies whose cookie was not pending (answered already, timed out, or unknown). */
  lateReplies: number;
  malformedReplies: number;
}

interface Pending {
  readonly command: string;
  readonly message: Buffer;
  readonly timeoutMs: number;
  attempts: number;
  retransmitTimer: NodeJS.Timeout | undefined;
  deadlineTimer: NodeJS.Timeout | undefined;
  resolve(reply: { [key: string]: TextBencode }): void;
  reject(error: Error): void;
}

export class NgClient {
  readonly instance: string;
  readonly stats: NgClientStats = { requests: 0, retransmits: 0, timeouts: 0, lateReplies: 0, malformedReplies: 0 };
  private readonly socket: Socket;
  private readonly pending = new Map<string, Pending>();
  private readonly cookiePrefix = randomBytes(6).toString('hex');
  private counter = 0;
  private isClosed = false;
  private readonly timeoutMs: number;
  private readonly retransmitMs: number;
  private readonly bound: Promise<void>;
  private readonly connected: boolean;

  constructor(private readonly options: NgClientOptions) {
    this.instance = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.retransmitMs = options.retransmitMs ?? 500;
    this.socket = createSocket(isIPv6(options.host) ? 'udp6' : 'udp4');
    this.socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== options.port) return; // not from the ng port: ignore, never trust
      this.onMessage(msg);
    });
    // Send failures (e.g. ICMP unreachable while rtpengine restarts) are transient: retransmission covers them.
    this.socket.on('error', (e) => options.logger.debug({ err: e.message, rtpengine: this.instance }, 'ng socket error'));
    // An address literal is connected once: each send then skips the per-datagram lookup and route (a
    // measurable share of the engine's CPU per call, with about ten commands per call). A host name is
    // resolved on every send as before, so a changed DNS record is followed.
    this.connected = isIP(options.host) !== 0;
    this.bound = new Promise((resolve) => {
      this.socket.once('close', resolve);
      this.socket.once('error', () => resolve()); // e.g. a failed connect: requests then time out as usual
      if (this.connected) {
        this.socket.once('connect', resolve);
        this.socket.connect(options.port, options.host);
      } else {
        this.socket.once('listening', resolve);
        this.socket.bind(0);
      }
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Number of requests awaiting a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sends one command and resolves with its reply. Rejects with
   * RtpengineError on `result: error`, RtpengineTimeoutError when no reply
   * arrives in time, RtpengineClosedError when the client is (or gets) closed.
   */
  async request<C extends NgCommand>(command: C, params: NgRequest<C>, options: NgRequestOptions = {}): Promise<NgResponse<C>> {
    if (this.isClosed) throw new RtpengineClosedError(command, this.instance);
    const cookie = `${this.cookiePrefix}${(this.counter++).toString(36)}`;
    const body = { ...(params as { readonly [key: string]: BencodeValue | undefined }), command };
    const message = Buffer.concat([Buffer.from(`${cookie} `, 'ascii'), bencode(body)]);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    await this.bound;
    if (this.isClosed) throw new RtpengineClosedError(command, this.instance);
    const done = metrics.rtpengineCommand.startTimer({ command });
    let reply: { [key: string]: TextBencode };
    try {
      reply = await this.exchange(cookie, command, message, timeoutMs);
    } catch (e) {
      done({ outcome: e instanceof RtpengineTimeoutError ? 'timeout' : 'failed' });
      throw e;
    }
    try {
      const answer = this.interpret(command, reply) as NgResponse<C>;
      done({ outcome: 'ok' });
      return answer;
    } catch (e) {
      done({ outcome: 'error' });
      throw e;
    }
  }

  /** Sends a message and waits for the reply with its cookie, retransmitting until the deadline. */
  private exchange(cookie: string, command: string, message: Buffer, timeoutMs: number): Promise<{ [key: string]: TextBencode }> {
    return new Promise<{ [key: string]: TextBencode }>((resolve, reject) => {
      const entry: Pending = { command, message, timeoutMs, attempts: 0, retransmitTimer: undefined, deadlineTimer: undefined, resolve, reject };
      this.pending.set(cookie, entry);
      this.stats.requests++;
      entry.deadlineTimer = setTimeout(() => {
        this.settle(cookie);
        this.stats.timeouts++;
        reject(new RtpengineTimeoutError(command, timeoutMs, entry.attempts, this.instance));
      }, timeoutMs);
      this.transmit(cookie, entry);
    });
  }

  private transmit(cookie: string, entry: Pending): void {
    if (!this.pending.has(cookie)) return;
    if (entry.attempts > 0) this.stats.retransmits++;
    entry.attempts++;
    try {
      if (this.connected) this.socket.send(entry.message, this.sent);
      else this.socket.send(entry.message, this.options.port, this.options.host, this.sent);
    } catch (e) {
      this.sent(e as Error); // e.g. a socket whose connect failed: the request times out as usual
    }
    // Each wait twice the last, at most four times the first (as SIP's T1 to T2): an rtpengine that does not
    // answer because it is overloaded (its ng socket dropping datagrams) gets half the repeats, not one
    // every retransmitMs for every request it has not answered.
    const waitMs = this.retransmitMs * Math.min(4, 2 ** (entry.attempts - 1));
    entry.retransmitTimer = setTimeout(() => this.transmit(cookie, entry), waitMs);
  }

  /** One callback for every send (none allocated per datagram). */
  private readonly sent = (err: Error | null): void => {
    if (err !== null) this.options.logger.debug({ err: err.message, rtpengine: this.instance }, 'ng send failed');
  };

  private settle(cookie: string): Pending | undefined {
    const entry = this.pending.get(cookie);
    if (entry === undefined) return undefined;
    this.pending.delete(cookie);
    clearTimeout(entry.retransmitTimer);
    clearTimeout(entry.deadlineTimer);
    return entry;
  }

  private onMessage(msg: Buffer): void {
    const space = msg.indexOf(0x20);
    if (space <= 0) {
      this.stats.malformedReplies++;
      return;
    }
    const cookie = msg.toString('latin1', 0, space);
    const entry = this.settle(cookie);
    if (entry === undefined) {
      this.stats.lateReplies++;
      return;
    }
    let decoded: TextBencode;
    try {
      decoded = bencodeToText(bdecode(msg.subarray(space + 1)));
    } catch (e) {
      this.stats.malformedReplies++;
      entry.reject(new RtpengineProtocolError(`rtpengine ${this.instance} sent a malformed reply to "${entry.command}": ${(e as Error).message}`));
      return;
    }
    if (typeof decoded !== 'object' || Array.isArray(decoded)) {
      this.stats.malformedReplies++;
      entry.reject(new RtpengineProtocolError(`rtpengine ${this.instance} replied to "${entry.command}" with a non-dictionary`));
      return;
    }
    entry.resolve(decoded);
  }

  private interpret(command: string, reply: { [key: string]: TextBencode }): { [key: string]: TextBencode } {
    const result = reply.result;
    if (result === 'error' || result === 'load limit') {
      const reason = typeof reply['error-reason'] === 'string' ? reply['error-reason'] : String(result);
      throw new RtpengineError(command, reason, this.instance);
    }
    if (typeof result !== 'string') throw new RtpengineProtocolError(`rtpengine ${this.instance} replied to "${command}" without a result`);
    for (const field of REQUIRED_REPLY_FIELDS[command as NgCommand] ?? []) {
      const v = reply[field.key];
      if (field.type === 'string' ? typeof v !== 'string' : !Array.isArray(v)) {
        throw new RtpengineProtocolError(`rtpengine ${this.instance} replied to "${command}" without ${field.key}`);
      }
    }
    if (typeof reply.warning === 'string') this.options.logger.debug({ rtpengine: this.instance, command, warning: reply.warning }, 'rtpengine warning');
    return reply;
  }

  /** Rejects every pending request with RtpengineClosedError and releases the socket. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const cookie of [...this.pending.keys()]) {
      const entry = this.settle(cookie);
      entry?.reject(new RtpengineClosedError(entry.command, this.instance));
    }
    this.socket.close();
  }
}
