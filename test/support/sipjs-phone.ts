/**
 * SIP.js (the browser SIP library, npm `sip.js`) as a test peer in Node: a
 * softphone that registers, places and takes calls over WebSocket exactly as
 * it would in a browser (its own Contact on a `.invalid` host, its own Via,
 * its own transactions), with the `ws` library standing in for the browser's
 * WebSocket and a fixed SDP standing in for WebRTC (there is no media here).
 */
import {
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type BodyAndContentType,
  type Invitation,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import { WebSocket } from 'ws';

/** The certificate authorities `wss:` connections trust (a browser would have its own store). */
let trusted: Buffer | undefined;

/** The browser's WebSocket constructor, as SIP.js calls it: `new WebSocket(url, 'sip')`. */
class BrowserLikeWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, trusted !== undefined ? { ca: trusted } : {});
  }
}

function installWebSocket(ca: Buffer | undefined): void {
  trusted = ca;
  (globalThis as { WebSocket?: unknown }).WebSocket = BrowserLikeWebSocket;
}

/** An offer/answer that is always the same audio line: the calls are about signalling. */
class FixedSdp implements SessionDescriptionHandler {
  remote: string | undefined;

  constructor(private readonly port: number) {}

  close(): void {
    // nothing to release
  }

  getDescription(): Promise<BodyAndContentType> {
    const body = ['v=0', `o=- ${this.port} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${this.port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
    return Promise.resolve({ body, contentType: 'application/sdp' });
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }

  setDescription(sdp: string): Promise<void> {
    this.remote = sdp;
    return Promise.resolve();
  }

  sendDtmf(): boolean {
    return false;
  }
}

export interface PhoneOptions {
  /** `ws://…` or `wss://…` of the server. */
  readonly server: string;
  /** Address of record, e.g. `sip:alice@example.org`. */
  readonly aor: string;
  readonly ca?: Buffer;
  /** Answer incoming calls at once. */
  readonly autoAnswer?: boolean;
  /** Digest credentials for a registrar's challenge. */
  readonly auth?: { readonly username: string; readonly password: string };
}

export class SipJsPhone {
  readonly incoming: Invitation[] = [];
  private readonly registerer: Registerer;
  private readonly waiters: (() => void)[] = [];
  private taken = 0;

  private constructor(
    readonly ua: UserAgent,
    private readonly autoAnswer: boolean,
  ) {
    this.registerer = new Registerer(ua, { expires: 300 });
  }

  static async start(o: PhoneOptions): Promise<SipJsPhone> {
    installWebSocket(o.ca);
    // The delegate needs the phone, which needs the user agent: tie the knot through a holder.
    const holder: { phone?: SipJsPhone } = {};
    const ua = new UserAgent({
      uri: UserAgent.makeURI(o.aor),
      transportOptions: { server: o.server, connectionTimeout: 5 },
      ...(o.auth !== undefined ? { authorizationUsername: o.auth.username, authorizationPassword: o.auth.password } : {}),
      sessionDescriptionHandlerFactory: () => new FixedSdp(40000 + Math.floor(Math.random() * 10000) * 2),
      logLevel: process.env.SIPJS_LOG === '1' ? 'debug' : 'error',
      logBuiltinEnabled: process.env.SIPJS_LOG === '1',
      delegate: { onInvite: (invitation) => holder.phone?.onInvite(invitation) },
    });
    const phone = new SipJsPhone(ua, o.autoAnswer === true);
    holder.phone = phone;
    await ua.start();
    return phone;
  }

  /** The Contact SIP.js registers: `sip:<random>@<random>.invalid;transport=ws`. */
  get contact(): string {
    return this.ua.contact.uri.toString();
  }

  private onInvite(invitation: Invitation): void {
    this.incoming.push(invitation);
    for (const w of this.waiters.splice(0)) w();
    if (this.autoAnswer) void invitation.accept();
  }

  async register(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const listener = (s: RegistererState): void => {
        if (s === RegistererState.Registered) resolve();
        else if (s === RegistererState.Terminated) reject(new Error('registration terminated'));
      };
      this.registerer.stateChange.addListener(listener);
    });
    await this.registerer.register({ requestDelegate: { onReject: (r) => void r } });
    await done;
  }

  async unregister(): Promise<void> {
    await this.registerer.unregister();
  }

  /** Calls `target`; resolves once the call is established, rejects when it ends first. */
  async call(target: string): Promise<Session> {
    const uri = UserAgent.makeURI(target);
    if (uri === undefined) throw new Error(`bad target ${target}`);
    const inviter = new Inviter(this.ua, uri);
    const established = waitState(inviter, SessionState.Established);
    await inviter.invite();
    await established;
    return inviter;
  }

  /** The next incoming call not yet taken (already received ones first). */
  async nextCall(timeoutMs = 5000): Promise<Invitation> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const next = this.incoming[this.taken];
      if (next !== undefined) {
        this.taken++;
        return next;
      }
      if (Date.now() >= end) throw new Error('no incoming call');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, end - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    await this.ua.stop();
  }
}

/** Resolves when the session reaches `state`; rejects if it terminates first. */
export function waitState(session: Session, state: SessionState, timeoutMs = 10_000): Promise<void> {
  if (session.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`session never reached ${state} (now ${session.state})`)), timeoutMs);
    const listener = (s: SessionState): void => {
      if (s === state) {
        clearTimeout(t);
        session.stateChange.removeListener(listener);
        resolve();
      } else if (s === SessionState.Terminated) {
        clearTimeout(t);
        session.stateChange.removeListener(listener);
        reject(new Error(`session terminated before ${state}`));
      }
    };
    session.stateChange.addListener(listener);
  });
}
