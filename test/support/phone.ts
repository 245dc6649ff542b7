/**
 * What every test phone is: a raw SIP socket (SipPeer) plus an RTP endpoint
 * that sends a known tone and records everything it receives, and the calls
 * it handles by Call-ID. CallerPhone (phones.ts) and AgentPhone
 * (agent-phone.ts) build on it.
 */
import type { RtpEndpoint, ToneStream } from './rtp/rtp-endpoint.js';
import type { TestCodec } from './rtp/test-sdp.js';
import { respond, type Received, type SipPeer } from './sip-peer.js';

export interface Target {
  readonly host: string;
  readonly port: number;
}

export function lineOf(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text);
  return m?.[1]?.trim();
}

export function contactUri(r: Received): string | undefined {
  const c = r.message.headers.get('contact');
  const m = c === undefined ? null : /<([^>]+)>/.exec(c) ?? /^\s*([^;\s]+)/.exec(c);
  return m?.[1];
}

export abstract class Phone {
  protected readonly handlers = new Map<string, (r: Received) => void>();
  tone: ToneStream | undefined;
  /** false: follow the peer's SDP but send nothing (the caller sends its own packets). */
  autoTone = true;
  /** The codecs this phone's SDP lists (its offers and answers), its tone in the first; default PCMU then PCMA. */
  codecs: readonly TestCodec[] = ['pcmu', 'pcma'];

  protected constructor(
    readonly peer: SipPeer,
    readonly rtp: RtpEndpoint,
    readonly frequency: number,
  ) {
    peer.onMessage = (r) => this.dispatch(r);
  }

  protected abstract unknownCall(r: Received): void;

  private dispatch(r: Received): void {
    const h = this.handlers.get(r.info.callId);
    if (h !== undefined) h(r);
    else this.unknownCall(r);
  }

  /** Sends to where this SDP points, and starts the tone the first time. */
  mediaTo(sdp: string | undefined): void {
    if (sdp === undefined || !/^m=audio/m.test(sdp)) return;
    this.rtp.setRemoteFromSdp(sdp);
    if (this.autoTone) this.tone ??= this.rtp.startTone({ frequency: this.frequency, codec: this.codecs[0] });
  }

  protected reply(r: Received, status: number, reason: string, opts: Parameters<typeof respond>[3] = {}): void {
    void this.peer.send(respond(r, status, reason, opts), { host: r.from.address, port: r.from.port });
  }

  get transportParam(): string {
    return this.peer.transport === 'udp' ? '' : `;transport=${this.peer.transport}`;
  }

  close(): void {
    this.tone?.stop();
    this.rtp.close();
    void this.peer.close();
  }
}
