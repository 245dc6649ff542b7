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
 *
 * rtpengine sees only the caller's first usable audio stream; every SDP bound
 * for the caller gets the caller's other offered m-lines back, rejected, and
 * an answer's direction mirrors the caller's offer (media/sdp-streams.ts,
 * RFC 3264 §6). A party that was told it will not be sent media (it offered
 * sendonly or inactive) is played no prompt: rtpengine refuses to play toward
 * it, and the flow goes on as if the prompt had been heard.
 *
 * Each side's SDP is one session of ours (RFC 3264 §8, media/sdp-origin.ts):
 * the caller's for the whole call, each callee dialog's (an agent rung, a
 * gateway dialled) from the offer it is sent (calleeOffer) to its end.
 * rtpengine passes on whatever origin its input had: without the keepers the
 * agent saw the caller's session id and version, which a carrier may change
 * in every SDP (and which our answers on the caller's behalf never raised).
 */
import { randomInt } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import {
  agentAnswerAfterPlaceholder,
  MediaCancelledError,
  offerWithAnswerCodecFirst,
  receivesAudio,
  RtpengineError,
  sameMedia,
  SdpOriginKeeper,
  sendsAudio,
  shapeForCaller,
  singleAudio,
  type CallMedia,
  type RenderedPrompt,
  type StreamLayout,
} from '../../media/index.js';
import { failure, sipFailureOf } from '../sip-errors.js';

export const CALLER = 'caller';
export const AGENT = 'agent';

/** A plain sendrecv audio offer for a party that is not a phone (delayed-offer callers we answer ourselves). */
const LOCAL_OFFER = ['v=0', 'o=switchboard 1 1 IN IP4 127.0.0.1', 's=switchboard', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', ''].join('\r\n');

/** A session of ours (RFC 8866 §5.2: username, session name, a new globally unique id) for the SDPs bound for one party. */
function ownSession(): SdpOriginKeeper {
  return new SdpOriginKeeper({ username: 'switchboard', name: 'switchboard', newSessionId: () => String(randomInt(1, 2 ** 47)) });
}

export class CallAnchor {
  private callerOfferSdp: string | undefined;
  private earlySdp: string | undefined;
  /** Every SDP bound for the caller is one session: one origin, the version up by one per change (sdp-origin.ts). */
  private readonly callerSession = ownSession();
  /** The same for the callee dialog of the moment: a new session for each agent rung or gateway dialled (calleeOffer). */
  private calleeSession = ownSession();
  /** The offer the callee of the moment was sent, as sent (undefined: a delayed offer, the callee offers). */
  private calleeOfferSdp: string | undefined;
  /** The m-lines of the caller's last offer (media/sdp-streams.ts). */
  private callerLayout: StreamLayout | undefined;
  /** The m-lines of the agent side's last offer (an agent adding video in a re-INVITE): our answer has as many (RFC 3264 §6). */
  private agentLayout: StreamLayout | undefined;
  /** Whether the parties are kept apart (blockAll) or hear each other (unblock: the bridge, a voicemail's meter). */
  private blocked = false;
  /** Whether rtpengine sends to a party, by label, from the last SDP it was given (RFC 3264 §6.1); unknown counts as yes. */
  private readonly sendsTo = new Map<string, boolean>();

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

  /** `sdp` from rtpengine on its way to the caller: in the shape of the caller's offer, one session (see above). */
  private forCaller(sdp: string, answering: boolean): string {
    return this.toward(CALLER, this.callerSession.stamp(shapeForCaller(sdp, this.callerLayout, answering)));
  }

  /** `sdp` from rtpengine on its way to `label`: noted, whether it says rtpengine will send there. */
  private toward(label: string, sdp: string): string {
    this.sendsTo.set(label, sendsAudio(sdp));
    return sdp;
  }

  /** An offer from the agent side: its first usable audio stream, for rtpengine; its layout is kept for the answer. */
  private fromAgent(offer: string): string {
    const { sdp, layout } = singleAudio(offer);
    this.agentLayout = layout;
    return sdp;
  }

  /** rtpengine's answer to the agent side's offer, in that offer's shape (its other m-lines rejected, port 0). */
  private forAgentAnswer(sdp: string): string {
    return this.forCallee(shapeForCaller(sdp, this.agentLayout, true));
  }

  /** `sdp` from rtpengine on its way to the callee's dialog: in its session (see above). */
  private forCallee(sdp: string): string {
    return this.toward(AGENT, this.calleeSession.stamp(sdp));
  }

  /**
   * A new callee dialog (an agent rung, a gateway dialled) is sent `offer`
   * (the call's offer for the agent side; undefined for a delayed offer): its
   * SDPs from here on are a session of their own, whose first description
   * this is. Resolves with the offer to send. The forks of one agent's device
   * share it: only one of them becomes the dialog. Without a media plane the
   * SDP is the caller's, end to end, and passes unchanged.
   */
  calleeOffer(offer: string | undefined): string | undefined {
    this.calleeSession = ownSession();
    this.calleeOfferSdp = offer === undefined || this.media === undefined ? offer : this.calleeSession.stamp(offer);
    return this.calleeOfferSdp;
  }

  /** The offer the callee of the moment was sent (calleeOffer), as sent. */
  get offeredCallee(): string | undefined {
    return this.calleeOfferSdp;
  }

  /** A new offer from the caller: its first usable audio stream, for rtpengine; its layout is kept for the answer. */
  private fromCaller(offer: string): string {
    const { sdp, layout } = singleAudio(offer);
    this.callerLayout = layout;
    // Known at once, before rtpengine answers: a prompt started meanwhile would be refused by rtpengine.
    this.sendsTo.set(CALLER, receivesAudio(sdp));
    return sdp;
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
      const offer = offerWithAnswerCodecFirst(this.fromCaller(sdp));
      const forAgent = this.toward(AGENT, await media.offer(CALLER, offer));
      this.earlySdp = this.forCaller(await media.answerPlaceholder(AGENT, offer), true);
      await media.blockAll();
      this.blocked = true;
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
  async agentAnswer(sdp: string, callerHas?: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => {
      const forCaller = shapeForCaller(await media.answer(AGENT, this.afterPlaceholder(sdp), { to: CALLER }), this.callerLayout, true);
      // An agent that answered inactive, sendonly or c=0.0.0.0 (RFC 3264 §6.1, §8.4) is sent nothing: no whisper is played to it.
      this.sendsTo.set(AGENT, this.receives(AGENT) && receivesAudio(sdp));
      // A caller already answered keeps the SDP it has (rtpengine transcodes): nothing new is sent to it, so no version is spent (RFC 3264 §8).
      if (callerHas !== undefined) return callerHas;
      // The same media as the caller's early answer (rtpengine copied only the agent's ptime or fmtp): that answer again,
      // unchanged (RFC 3261 §13.2.1; RFC 3262 §5 after a reliable 183).
      if (this.earlySdp !== undefined && sameMedia(this.earlySdp, forCaller)) return this.earlySdp;
      return this.toward(CALLER, this.callerSession.stamp(forCaller));
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
      const forCaller = this.forCaller(await media.offer(AGENT, sdp), false);
      await media.blockAll();
      this.blocked = true;
      return forCaller;
    });
  }

  /** Delayed offer: the caller answered our offer (in its ACK): the answer for the agent side. */
  async callerAnswer(sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => this.forCallee(await media.answer(CALLER, sdp, { to: AGENT })));
  }

  /** Delayed offer, nobody to bridge with (message, voicemail): our own offer for the caller. */
  async localOffer(): Promise<string> {
    const media = this.need('answering the caller');
    return this.guarded(async () => {
      const forCaller = this.forCaller(await media.offer(AGENT, LOCAL_OFFER), false);
      await media.blockAll();
      this.blocked = true;
      return forCaller;
    });
  }

  /**
   * A caller we answered ourselves re-offers (hold, resume, codec change):
   * rtpengine answers it again on behalf of nobody. Resolves with the answer
   * for the caller and rtpengine's offer for the agent side (what the next
   * agent is offered).
   */
  async reanswerLocally(sdp: string): Promise<{ readonly answer: string; readonly forAgent: string }> {
    const media = this.need('answering the caller');
    return this.guarded(async () => {
      const offer = this.fromCaller(sdp);
      const forAgent = this.toward(AGENT, await media.offer(CALLER, offer));
      const answer = this.forCaller(await media.answerPlaceholder(AGENT, offer), true);
      // Kept as it was: a call we unblocked ourselves (a voicemail, whose meter listens to the mix) stays so.
      if (this.blocked) await media.blockAll();
      return { answer, forAgent };
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
      await media.offer(AGENT, this.fromAgent(agentOffer));
      await media.blockAll();
      this.blocked = true;
      return this.forAgentAnswer(await media.answer(CALLER, singleAudio(callerSdp).sdp, { to: AGENT }));
    });
  }

  /** An established leg re-offers (hold, resume, codec change): the offer for the other leg. */
  async relayOffer(from: string, sdp: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => {
      if (from === CALLER) return this.forCallee(await media.offer(CALLER, this.fromCaller(sdp)));
      // Only the first audio stream goes through rtpengine, as the caller's (media.md): the caller is never offered the agent's video.
      return this.forCaller(await media.offer(from, from === AGENT ? this.fromAgent(sdp) : sdp), false);
    });
  }

  /** The other leg answered a relayed offer: the answer for the offerer. */
  async relayAnswer(by: string, sdp: string, offerer: string): Promise<string> {
    const media = this.media;
    if (media === undefined) return sdp;
    return this.guarded(async () => {
      // The caller answers an offer in the shape of its session: rtpengine takes its audio stream only.
      if (offerer === CALLER) return this.forCaller(await media.answer(by, sdp, { to: offerer }), true);
      const answer = await media.answer(by, by === CALLER ? singleAudio(sdp).sdp : sdp, { to: offerer });
      if (by === AGENT) this.sendsTo.set(AGENT, this.receives(AGENT) && receivesAudio(sdp));
      return offerer === AGENT ? this.forAgentAnswer(answer) : this.toward(offerer, answer);
    });
  }

  /** Whether `label` is sent media now: not when it offered (or answered) that it receives none. */
  receives(label: string): boolean {
    return this.sendsTo.get(label) !== false;
  }

  /** Starts `prompt` for `label`, looping `repeat` times; undefined without a media plane, or when `label` receives no media. */
  async play(label: string, prompt: RenderedPrompt, repeat = 1): Promise<{ durationMs: number } | undefined> {
    const media = this.media;
    if (media === undefined || !this.receives(label)) return undefined;
    try {
      return await media.play(label, prompt, { repeat });
    } catch (e) {
      // The party went on hold (sendonly, inactive) while the prompt was on its way: rtpengine refuses it.
      if (e instanceof RtpengineError && !this.receives(label)) return undefined;
      throw e;
    }
  }


  /**
   * Plays `prompt` to `label` to its end (cancelled by `signal`). CHOICE: to a
   * party that receives no media (it offered sendonly or inactive, RFC 3264
   * §6.1) nothing is sent, and the prompt's length is waited out instead, so the
   * flow goes on as if it had been played (rtpengine would refuse to play).
   */
  async playToEnd(label: string, prompt: RenderedPrompt, signal: AbortSignal): Promise<void> {
    const media = this.need('a prompt');
    if (this.receives(label)) {
      await media.playToEnd(label, prompt, { signal });
      return;
    }
    const started = performance.now();
    try {
      await wait(prompt.durationMs, undefined, { signal: AbortSignal.any([signal, media.lifetime]) });
    } catch {
      throw new MediaCancelledError(`prompt for ${label} on call ${media.callId} cancelled (not sent: ${label} receives no media)`, performance.now() - started);
    }
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
    this.blocked = false;
  }

  async block(): Promise<void> {
    if (this.media !== undefined && !this.media.released) await this.media.blockAll();
    this.blocked = true;
  }

  async release(): Promise<void> {
    await this.media?.release();
  }
}
