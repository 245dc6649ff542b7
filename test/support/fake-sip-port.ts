/**
 * The engine's SipPort without sockets, for unit tests of call-flow tasks:
 * an inbound INVITE that records what was sent to the caller, legs that
 * record hang-ups and can be made to send offers or hang up, and a dial whose
 * outcome each test scripts per target.
 */
import type {
  AnsweredWithOffer,
  CallerIdentity,
  DialOptions,
  DialResult,
  Headers,
  InboundInvite,
  IncomingOffer,
  InfoDigit,
  OfferHandler,
  OfferResponse,
  SipLeg,
  SipPort,
} from '../../src/engine/signaling/sip-port.js';
import { SipFailure } from '../../src/engine/signaling/sip-port.js';

export class FakeLeg implements SipLeg {
  connected = true;
  readonly reoffers: string[] = [];
  hungUpWith: string | undefined;
  answerToReoffer: (sdp: string) => Promise<string> = async (sdp) => `answer-to:${sdp}`;
  private hangUpListeners: ((serverReason: string | undefined) => void)[] = [];
  private offerHandler: OfferHandler | undefined;
  private digitListeners: ((d: InfoDigit) => void)[] = [];

  constructor(
    readonly id: string,
    public remoteSdp: string,
  ) {}

  onHangUp(listener: (serverReason: string | undefined) => void): void {
    if (!this.connected) queueMicrotask(() => listener(undefined));
    else this.hangUpListeners.push(listener);
  }

  private waitingOffers: { offer: IncomingOffer; answer: (r: Promise<OfferResponse>) => void }[] = [];
  private readonly answering = new Set<Promise<unknown>>();

  onOffer(handler: OfferHandler): void {
    this.offerHandler = handler;
    for (const w of this.waitingOffers.splice(0)) w.answer(this.answer(w.offer));
  }

  async holdOffers(): Promise<void> {
    this.offerHandler = undefined;
    await Promise.allSettled([...this.answering]);
  }

  onDigit(listener: (digit: InfoDigit) => void): void {
    this.digitListeners.push(listener);
  }

  /** A fake far end acknowledges at once. */
  async acknowledged(): Promise<boolean> {
    return Promise.resolve(this.connected);
  }

  readonly sentDigits: string[] = [];

  async sendDigit(d: InfoDigit): Promise<void> {
    this.sentDigits.push(d.digit);
  }

  async reoffer(sdp: string): Promise<string> {
    this.reoffers.push(sdp);
    return this.answerToReoffer(sdp);
  }

  /** What an in-dialog OPTIONS gets (probe()); each probe is counted. */
  probeAnswer: number | undefined = 200;
  probes = 0;

  async probe(): Promise<number | undefined> {
    this.probes++;
    return this.probeAnswer;
  }

  /** The Q.850 cause of our BYE's Reason, when it had one. */
  hungUpCause: number | undefined;

  async hangUp(reason?: string, q850Cause = 16): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    this.refuseWaitingOffers();
    this.hungUpWith = reason ?? 'hung up by us';
    if (reason !== undefined) this.hungUpCause = q850Cause;
  }

  /** The far end hangs up (BYE), or with `serverReason` the SIP server ends the leg on its own (ACK timeout, session expiry). */
  farEndHangsUp(serverReason?: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.refuseWaitingOffers();
    for (const l of this.hangUpListeners.splice(0)) l(serverReason);
  }

  private refuseWaitingOffers(): void {
    for (const w of this.waitingOffers.splice(0)) w.answer(Promise.reject(new SipFailure(481, 'Call/Transaction Does Not Exist')));
  }

  /** The far end sends an offer (re-INVITE); resolves with our answer, rejects with our refusal. */
  offer(sdp: string | undefined, method: 'INVITE' | 'UPDATE' = 'INVITE'): Promise<OfferResponse> {
    if (this.offerHandler !== undefined) return this.answer({ method, sdp });
    // As the real leg: an offer waits for a handler (481 if the leg ends first).
    return new Promise((resolve) => this.waitingOffers.push({ offer: { method, sdp }, answer: resolve }));
  }

  private answer(offer: IncomingOffer): Promise<OfferResponse> {
    const answered = this.offerHandler!(offer);
    this.answering.add(answered);
    void answered.then(
      () => this.answering.delete(answered),
      () => this.answering.delete(answered),
    );
    return answered;
  }

  press(digit: string): void {
    for (const l of this.digitListeners) l({ digit, durationMs: 100 });
  }
}

export class FakeInvite implements InboundInvite {
  readonly callId = 'fake-call@test';
  readonly source = { address: '192.0.2.1', port: 5060, transport: 'udp' };
  readonly maxForwards: number;
  readonly reliableProvisionals = false;
  readonly reliableRequired = false;
  readonly contentRefusal = undefined;
  readonly progressSent: { status: number; sdp?: string }[] = [];
  finalStatus: number | undefined;
  finalReason: string | undefined;
  answeredWith: string | undefined;
  private readonly cancel = new AbortController();

  constructor(
    readonly uri = 'sip:1000@192.0.2.2',
    readonly offer: string | undefined = 'caller-offer',
    readonly caller: CallerIdentity = { number: '+15551230000', name: undefined, withheld: false },
    private readonly headers: Record<string, string> = {},
    maxForwards = 70,
  ) {
    this.maxForwards = maxForwards;
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  headerLines(name: string): readonly string[] {
    const v = this.headers[name.toLowerCase()];
    return v === undefined ? [] : [v];
  }

  get cancelled(): AbortSignal {
    return this.cancel.signal;
  }

  get finalResponseSent(): boolean {
    return this.finalStatus !== undefined;
  }

  callerCancels(): void {
    this.finalStatus ??= 487;
    this.cancel.abort();
  }

  progress(status: 180 | 183, options: { sdp?: string; headers?: Headers } = {}): void {
    if (this.finalResponseSent) return;
    this.progressSent.push({ status, ...(options.sdp !== undefined ? { sdp: options.sdp } : {}) });
  }

  async answer(sdp: string): Promise<SipLeg> {
    this.finalStatus = 200;
    this.answeredWith = sdp;
    return new FakeLeg('caller-leg', this.offer ?? '');
  }

  /** Whether the caller ACKs our 200 with an offer, and the answer its ACK brings (undefined: an ACK without one). */
  acks = true;
  ackAnswer: string | undefined = 'caller-answer';

  async answerWithOffer(offer: string): Promise<AnsweredWithOffer> {
    this.finalStatus = 200;
    this.answeredWith = offer;
    const leg = new FakeLeg('caller-leg', 'caller-answer');
    return this.acks ? { leg, answer: this.ackAnswer, acked: true } : { leg, answer: undefined, acked: false };
  }

  reject(status: number, reason: string): void {
    if (this.finalResponseSent) return;
    this.finalStatus = status;
    this.finalReason = reason;
  }
}

/** What a scripted callee does with the INVITE sent to it. */
export type Callee = { readonly kind: 'answer'; readonly sdp?: string } | { readonly kind: 'fail'; readonly status: number } | { readonly kind: 'ring' };

export class FakeSipPort implements SipPort {
  readonly dialed: DialOptions[] = [];
  readonly legs = new Map<string, FakeLeg>();

  constructor(private readonly callees: Readonly<Record<string, Callee>>) {}

  /** Status each OPTIONS keep-alive gets, per target (undefined: no answer). */
  readonly pingAnswers = new Map<string, number | undefined>();

  async ping(target: string): Promise<number | undefined> {
    return this.pingAnswers.get(target);
  }

  async dial(o: DialOptions): Promise<DialResult> {
    this.dialed.push(o);
    const callee = this.callees[o.target] ?? { kind: 'fail', status: 404 };
    if (callee.kind === 'fail') return { kind: 'failed', status: callee.status, reason: 'scripted' };
    if (callee.kind === 'ring') {
      o.onProgress?.(180, undefined, false);
      // Rings until the dialer gives up (ring timeout or the call ending).
      await new Promise<void>((resolve) => (o.signal.aborted ? resolve() : o.signal.addEventListener('abort', () => resolve(), { once: true })));
      return { kind: 'failed', status: 487, reason: 'Request Terminated' };
    }
    const leg = new FakeLeg(`leg-${o.target}`, callee.sdp ?? `answer-from:${o.target}`);
    this.legs.set(o.target, leg);
    return { kind: 'answered', leg };
  }
}
