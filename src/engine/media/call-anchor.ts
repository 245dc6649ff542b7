/**
 * A call's media as the call flow sees it: the caller on one side, the agent
 * (or gateway) on the other, rtpengine in between. Every SDP that crosses the
 * engine goes through here; what comes back is what to send on.
 *
 * rtpengine labels: `caller`, and `agent` for whoever the caller is bridged
 * with (an agent, a gateway). Before anyone answers, `agent` is a placeholder
 * on the discard port (CallMedia.answerPlaceholder), so the caller's 183 SDP is
 * rtpengine's final address for it (port latching keeps it when the real agent
 * answers), prompts can play to the caller as early media, and nothing crosses
 * while the call is blocked.
 *
 * Without a media plane (signaling-only runs: load baselines, deployments
 * behind an anchoring SBC) the SDP passes through unchanged and the audio
 * features are unavailable (`anchored` is false).
 */
import { agentAnswerAfterPlaceholder, offerWithAnswerCodecFirst, RtpengineError, sameMedia, SdpOriginKeeper, type CallMedia, type RenderedPrompt } from '../../media/index.js';
import { failure, sipFailureOf } from '../sip-errors.js';

export const CALLER = 'caller';
export const AGENT = 'agent';

/** A plain sendrecv audio offer for a party that is not a phone (delayed-offer callers we answer ourselves). */
const LOCAL_OFFER = ['v=0', 'o=switchboard 1 1 IN IP4 127.0.0.1', 's=switchboard', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', ''].join('\r\n');

export class CallAnchor {
  private callerOfferSdp: string | undefined;
  private earlySdp: string | undefined;
  /** Every SDP bound for the caller is one session: one origin, the version up by one per change (sdp-origin.ts). */
  private readonly callerSession = new SdpOriginKeeper();

  constructor(readonly media: CallMedia | undefined) {}

  get anchored(): boolean {
    return this.media !== undefined;
  }

  /** The media, for features that need audio; a 480-worthy failure without a media plane. */
  private need(what: string): CallMedia {
    if (this.media === undefined) throw failure('NO_MEDIA_PLANE', `${what} needs the media plane`);
    return this.media;
  }

  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw sipFailureOf(e);
    }
  }

  /**
   * The caller offered `sdp`: resolves with the SDP to offer the agent side.
   * When anchored, also answers it with the placeholder and blocks the call,
   * so earlySdp is ready for a 183 and no packet crosses before the bridge.
   */
  async callerOffer(sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => {
      const offer = offerWithAnswerCodecFirst(sdp);
      const forAgent = await media.offer(CALLER, offer);
      this.earlySdp = this.callerSession.stamp(await media.answerPlaceholder(AGENT, offer));
      await media.blockAll();
      this.callerOfferSdp = sdp;
      return forAgent;
    });
  }

  /** rtpengine's SDP for the caller (a 183 or a local 200); undefined before callerOffer or without media. */
  get callerSdp(): string | undefined {
    return this.earlySdp;
  }

  get callerOffered(): boolean {
    return this.callerOfferSdp !== undefined;
  }

  /** The agent side answered the caller's offer: the SDP for the caller's 200. */
  async agentAnswer(sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => {
      const forCaller = await media.answer(AGENT, this.afterPlaceholder(sdp), { to: CALLER });
      // The same media as the caller's early answer (rtpengine copied only the agent's ptime or fmtp): that answer again,
      // unchanged (RFC 3261 §13.2.1; RFC 3262 §5 after a reliable 183).
      if (this.earlySdp !== undefined && sameMedia(this.earlySdp, forCaller)) return this.earlySdp;
      return this.callerSession.stamp(forCaller);
    });
  }

  /**
   * The agent side's early answer (a gateway's 183): rtpengine learns where
   * it is, and the caller keeps the answer of its own 183 (callerSdp).
   */
  async agentEarlyAnswer(sdp: string): Promise<void> {
    const media = this.media;
    if (media === undefined) return;
    await this.guarded(() => media.answer(AGENT, this.afterPlaceholder(sdp), { to: CALLER }));
  }

  /** An answer of the agent side, fitted to the placeholder the caller was answered with (placeholder-answer.ts). */
  private afterPlaceholder(sdp: string): string {
    return this.earlySdp !== undefined ? agentAnswerAfterPlaceholder(this.earlySdp, sdp) : sdp;
  }

  /** Delayed offer: the agent side offered (in its 200): the offer for the caller. */
  async agentOffer(sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => {
      const forCaller = this.callerSession.stamp(await media.offer(AGENT, sdp));
      await media.blockAll();
      return forCaller;
    });
  }

  /** Delayed offer: the caller answered our offer (in its ACK): the answer for the agent side. */
  async callerAnswer(sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(() => media.answer(CALLER, sdp, { to: AGENT }));
  }

  /** Delayed offer, nobody to bridge with (message, voicemail): our own offer for the caller. */
  async localOffer(): Promise<string> {
    const media = this.need('answering the caller');
    return this.guarded(async () => {
      const forCaller = this.callerSession.stamp(await media.offer(AGENT, LOCAL_OFFER));
      await media.blockAll();
      return forCaller;
    });
  }

  /** A caller we answered ourselves re-offers: rtpengine answers it again on behalf of nobody. */
  async reanswerLocally(sdp: string): Promise<string> {
    const media = this.need('answering the caller');
    return this.guarded(async () => {
      await media.offer(CALLER, sdp);
      const answer = this.callerSession.stamp(await media.answerPlaceholder(AGENT, sdp));
      await media.blockAll();
      return answer;
    });
  }

  /**
   * A new agent offered (delayed offer) while the caller is already answered:
   * rtpengine takes the agent's offer (the caller keeps its ports) and the
   * caller's last SDP answers it. Resolves with the answer for the agent.
   */
  async reconnectAgent(agentOffer: string, callerSdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return callerSdp;
    return this.guarded(async () => {
      await media.offer(AGENT, agentOffer);
      await media.blockAll();
      return media.answer(CALLER, callerSdp, { to: AGENT });
    });
  }

  /** An established leg re-offers (hold, resume, codec change): the offer for the other leg. */
  async relayOffer(from: string, sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => this.forParty(from === CALLER ? AGENT : CALLER, await media.offer(from, sdp)));
  }

  /** The other leg answered a relayed offer: the answer for the offerer. */
  async relayAnswer(by: string, sdp: string, offerer: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => this.forParty(offerer, await media.answer(by, sdp, { to: offerer })));
  }

  /** `sdp` on its way to `label`: the caller's keeps the caller's session. */
  private forParty(label: string, sdp: string): string {
    return label === CALLER ? this.callerSession.stamp(sdp) : sdp;
  }

  /** Starts `prompt` for `label`, looping `repeat` times; false without a media plane. */
  async play(label: string, prompt: RenderedPrompt, repeat = 1): Promise<{ durationMs: number } | undefined> {
    const media = this.media;
    if (media === undefined) return undefined;
    return media.play(label, prompt, { repeat });
  }

  /** Plays `prompt` to `label` to its end (cancelled by `signal`). */
  async playToEnd(label: string, prompt: RenderedPrompt, signal: AbortSignal): Promise<void> {
    await this.need('a prompt').playToEnd(label, prompt, { signal });
  }

  /** Stops what plays to `label`; nothing playing (any more) is not an error. */
  async stopPlayback(label: string): Promise<void> {
    if (this.media === undefined || this.media.released) return;
    try {
      await this.media.stopPlayback(label);
    } catch (e) {
      // rtpengine: "Not currently playing media" once a prompt has run out by itself.
      if (!(e instanceof RtpengineError)) throw e;
    }
  }

  /** The bridge: the parties hear each other. */
  async unblock(): Promise<void> {
    if (this.media !== undefined && !this.media.released) await this.media.unblockAll();
  }

  async block(): Promise<void> {
    if (this.media !== undefined && !this.media.released) await this.media.blockAll();
  }

  async release(): Promise<void> {
    await this.media?.release();
  }
}
