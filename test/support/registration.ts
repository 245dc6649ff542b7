/**
 * REGISTER from a test peer, answering the registrar's digest challenge with
 * our own client (src/engine/signaling/digest-auth.ts, RFC 7616: SHA-256 when
 * offered, else MD5), as a phone would. Each call of `register` is one
 * registration transaction pair (challenge, then credentials) on one Call-ID,
 * the CSeq growing as RFC 3261 §10.2.4 asks of a refresh.
 */
import { chooseChallenge, digestAuthorization, parseChallenge, type DigestAlgorithm, type DigestChallenge } from '../../src/engine/signaling/digest-auth.js';
import { request, uniq, type Received, type SipPeer } from './sip-peer.js';

export interface RegisterOptions {
  readonly user: string;
  readonly password: string;
  /** Authenticate as this user instead (a phone trying to bind another's address). */
  readonly authUser?: string;
  /** Contact header value (default: `<sip:user@peer;transport>`), `*` to remove all, or null for a query. */
  readonly contact?: string | null;
  readonly expires?: number;
  /** Use only challenges of this algorithm (a client that knows only MD5). */
  readonly algorithm?: DigestAlgorithm;
  readonly domain?: string;
  /** Authorization to send first (a malformed one, a stale one...). */
  readonly authorization?: string;
  readonly timeoutMs?: number;
  /** Further header lines (a Path a proxy added, Supported). */
  readonly extra?: readonly string[];
  /** The Via's sent-by (`host:port`) instead of the peer's own address: a phone behind NAT writes its private one. */
  readonly sentBy?: string;
}

export class Registrant {
  readonly callId = uniq('reg');
  private cseq = 0;
  /** The last Authorization sent (to replay it) and the challenge it answered. */
  lastAuthorization: string | undefined;
  lastChallenge: DigestChallenge | undefined;

  constructor(
    readonly peer: SipPeer,
    private readonly server: { host: string; port: number },
  ) {}

  private contact(user: string): string {
    const t = this.peer.transport === 'udp' ? '' : `;transport=${this.peer.transport}`;
    return `<sip:${user}@${this.peer.uriHost}:${this.peer.port}${t}>`;
  }

  private async send(o: RegisterOptions, authorization: string | undefined): Promise<Received> {
    const domain = o.domain ?? '127.0.0.1';
    const uri = `sip:${domain}:${this.server.port}${this.peer.transport === 'udp' ? '' : `;transport=${this.peer.transport}`}`;
    const cseq = ++this.cseq;
    const branch = `z9hG4bK${uniq('r')}`;
    const extra = [...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []), ...(authorization !== undefined ? [`Authorization: ${authorization}`] : []), ...(o.extra ?? [])];
    const text = request({ method: 'REGISTER', uri, peer: this.peer, callId: this.callId, cseq, branch, to: `<sip:${o.user}@${domain}>`, contact: o.contact === undefined ? this.contact(o.user) : o.contact, extra })
      .replace(/^From: .*$/m, `From: <sip:${o.user}@${domain}>;tag=${uniq('f')}`)
      .replace(/^(Via: SIP\/2\.0\/[A-Z]+ )[^;]+/m, (all, start: string) => (o.sentBy !== undefined ? `${start}${o.sentBy}` : all));
    const at = this.peer.received.length;
    await this.peer.send(text, this.server);
    const res = await this.peer.wait((r) => r.message.kind === 'response' && r.info.callId === this.callId && r.info.cseq === cseq && r.message.status >= 200 && this.peer.received.indexOf(r) >= at, o.timeoutMs ?? 15_000, `final response to REGISTER ${cseq}`);
    return res;
  }

  /** REGISTER; a 401 is answered once with credentials. Resolves with the final response. */
  async register(o: RegisterOptions): Promise<Received> {
    const uriOf = (): string => `sip:${o.domain ?? '127.0.0.1'}:${this.server.port}${this.peer.transport === 'udp' ? '' : `;transport=${this.peer.transport}`}`;
    let res = await this.send(o, o.authorization);
    if (res.message.kind !== 'response' || res.message.status !== 401) return res;
    const values = res.message.headers.values('www-authenticate');
    const challenge = o.algorithm !== undefined ? values.map(parseChallenge).find((c) => c?.algorithm === o.algorithm) : chooseChallenge(values);
    if (challenge === undefined) throw new Error(`no usable challenge in ${values.join(' | ')}`);
    this.lastChallenge = challenge;
    this.lastAuthorization = digestAuthorization(challenge, { method: 'REGISTER', uri: uriOf(), username: o.authUser ?? o.user, password: o.password });
    res = await this.send(o, this.lastAuthorization);
    return res;
  }

  /** REGISTER answering the last challenge again with nonce count `nc` (a phone reusing its nonce). */
  async registerAgain(o: RegisterOptions, nc: number): Promise<Received> {
    const uri = `sip:${o.domain ?? '127.0.0.1'}:${this.server.port}${this.peer.transport === 'udp' ? '' : `;transport=${this.peer.transport}`}`;
    return this.send(o, digestAuthorization(this.lastChallenge!, { method: 'REGISTER', uri, username: o.authUser ?? o.user, password: o.password, nc }));
  }

  /** REGISTER with exactly this Authorization (no challenge answered): for replays and malformed headers. */
  async registerWith(o: RegisterOptions, authorization: string): Promise<Received> {
    return this.send(o, authorization);
  }
}

export function statusOf(r: Received): number {
  return r.message.kind === 'response' ? r.message.status : 0;
}

/** The contacts a 200 to REGISTER lists, with their expires. */
export function boundContacts(r: Received): { uri: string; expires: number }[] {
  if (r.message.kind !== 'response') return [];
  return r.message.headers
    .values('contact')
    .flatMap((v) => v.split(/,(?=\s*<)/))
    .map((c) => {
      const m = /<([^>]+)>.*;expires=(\d+)/.exec(c);
      return m === null ? undefined : { uri: m[1]!, expires: Number(m[2]) };
    })
    .filter((x): x is { uri: string; expires: number } => x !== undefined);
}
