/**
 * One call's media at rtpengine: labelled parties (caller, agent, and the
 * supervisors' monitor legs) set up by SDP offer/answer, prompts played to one
 * party, block/silence, the whisper, monitoring, recording, and one idempotent
 * release. rtpengine's call id is the engine's call id; each party's tag is its
 * label, and every command names parties by label.
 *
 * Release follows the ownership-tree rule: local clean-up first (timers,
 * monitor sockets, running whisper), then a best-effort `delete` at rtpengine
 * whose failure is logged, never thrown. When rtpengine itself is gone
 * (restarted), `releaseLocal()` does the local part only.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import { MediaCancelledError, MediaOfferRefusedError, MediaStateError, PromptRenderError, RtpengineTimeoutError } from './media-errors.js';
import { CallMonitoring, type MonitorOptions, type MonitorSession } from './monitor/call-monitoring.js';
import { lastPacketOf } from './ng/call-stats.js';
import type { NgCallStatsReply } from './ng/ng-types.js';
import type { RenderedPrompt } from './prompts/prompt-renderer.js';
import type { RtpengineInstance } from './rtpengine/rtpengine-pool.js';
import { placeholderAnswer } from './placeholder-answer.js';
import { sdpParams, type SdpOptions } from './sdp-params.js';
import { peerOf, type MediaPeer } from './webrtc.js';
import { runWhisper, type WhisperOptions, type WhisperResult } from './whisper.js';

const LABEL = /^[a-z][a-z0-9-]{0,31}$/;
/** Largest prompt sent inline (`blob`): an ng message must fit one UDP datagram. */
export const MAX_INLINE_PROMPT_BYTES = 64_000;
/** playToEnd waits this long past the reported duration before it resolves. */
const PLAYBACK_TAIL_MS = 60;

export interface CallMediaOptions {
  readonly callId: string;
  readonly instance: RtpengineInstance;
  readonly monitor: { readonly bindAddress: string; readonly jitterMs: number; readonly minJitterMs: number };
  readonly logger: Logger;
  /** Called once when released (the service forgets the call). */
  readonly onReleased?: (call: CallMedia) => void;
  /** A delete rtpengine did not answer (it may never have arrived): the service asks again later. */
  readonly onDeleteUnanswered?: (rtpengineCallId: string) => void;
}

export class CallMedia {
  readonly callId: string;
  readonly instance: RtpengineInstance;
  private readonly parties = new Set<string>();
  /** What each party's SDP spoke (webrtc or rtp), from its last offer or answer. */
  private readonly peerKinds = new Map<string, MediaPeer>();
  /** Each party's transport protocol (RTP/AVP, RTP/SAVP...), from its own SDP: what offers to it are written in. */
  private readonly protocols = new Map<string, string>();
  private lastOfferer: string | undefined;
  private readonly lifetimeController = new AbortController();
  private releasing: Promise<void> | undefined;
  private isReleased = false;
  private readonly logger: Logger;
  private readonly monitoring: CallMonitoring;
  /** Offers and answers sent and not yet answered (see creating()). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly digitListeners = new Set<(label: string, digit: string, durationMs: number | undefined) => void>();

  constructor(private readonly options: CallMediaOptions) {
    this.callId = options.callId;
    this.instance = options.instance;
    this.logger = options.logger.child({ callId: options.callId, rtpengine: options.instance.id });
    this.monitoring = new CallMonitoring(
      {
        callId: this.callId,
        client: this.instance.client,
        isReleased: () => this.released,
        labels: () => this.labels,
        deleteRemote: (id) => this.deleteRemote(id),
      },
      options.monitor,
      this.logger,
    );
  }

  /** Aborted when the call's media is released: long operations listen to it. */
  get lifetime(): AbortSignal {
    return this.lifetimeController.signal;
  }

  get released(): boolean {
    return this.isReleased;
  }

  /** Labels of the parties known so far. */
  get labels(): string[] {
    return [...this.parties];
  }

  private noteProtocol(label: string, sdp: string): void {
    const protocol = /^m=audio \d+(?:\/\d+)? (\S+)/m.exec(sdp)?.[1];
    if (protocol !== undefined) this.protocols.set(label, protocol);
  }

  /**
   * An offer or answer, which may create the call at rtpengine: a release that
   * comes meanwhile (a CANCEL right after the INVITE) waits for it before its
   * delete, which rtpengine would otherwise handle first, keeping the call it
   * then creates until its own timeout (hours). Rejects (MEDIA_STATE) when the
   * call was released meanwhile.
   */
  private async creating<T>(what: string, send: () => Promise<T>): Promise<T> {
    const sent = send();
    const settled = sent.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    try {
      const reply = await sent;
      this.assertActive(what);
      return reply;
    } finally {
      this.inFlight.delete(settled);
    }
  }

  private assertActive(what: string): void {
    if (this.released) throw new MediaStateError(`call ${this.callId} media is released; cannot ${what}`);
  }

  private assertParty(label: string): void {
    if (!this.parties.has(label)) throw new MediaStateError(`call ${this.callId} has no party "${label}" (known: ${this.labels.join(', ') || 'none'})`);
  }

  /**
   * Party `label` offers `sdp`. Resolves with rtpengine's SDP to send to the
   * other side (rtpengine's ports in place of the party's).
   */
  async offer(label: string, sdp: string, options: SdpOptions = {}): Promise<string> {
    this.assertActive('offer');
    if (!LABEL.test(label)) throw new MediaStateError(`party label "${label}" must be lower-case letters, digits and "-" (e.g. caller, agent)`);
    const from = peerOf(sdp);
    const other = [...this.parties].find((p) => p !== label);
    const reply = await this.creating('offer', () =>
      this.instance.client.request('offer', {
        'call-id': this.callId,
        'from-tag': label,
        label,
        sdp,
        ...sdpParams(options, from, options.peer ?? 'rtp', false, (other !== undefined ? this.protocols.get(other) : undefined) ?? 'RTP/AVP'),
      }),
    );
    this.parties.add(label);
    this.peerKinds.set(label, from);
    this.noteProtocol(label, sdp);
    this.lastOfferer = label;
    return reply.sdp;
  }

  /**
   * Party `label` answers the last offer (or `options.to`'s). Resolves with
   * rtpengine's SDP to send back to the offerer.
   */
  async answer(label: string, sdp: string, options: SdpOptions & { readonly to?: string } = {}): Promise<string> {
    this.assertActive('answer');
    if (!LABEL.test(label)) throw new MediaStateError(`party label "${label}" must be lower-case letters, digits and "-"`);
    const offerer = options.to ?? this.lastOfferer;
    if (offerer === undefined) throw new MediaStateError(`call ${this.callId}: "${label}" cannot answer before anyone offered`);
    this.assertParty(offerer);
    const from = peerOf(sdp);
    const reply = await this.creating('answer', () =>
      this.instance.client.request('answer', {
        'call-id': this.callId,
        'from-tag': offerer,
        'to-tag': label,
        label,
        sdp,
        ...sdpParams(options, from, options.peer ?? this.peerKinds.get(offerer) ?? 'rtp', true),
      }),
    );
    // RFC 4568 §6.1: an SRTP (SDES) offer is answered with one crypto line; none means no usable suite.
    if (this.peerKinds.get(offerer) !== 'webrtc' && /^RTP\/SAVPF?$/i.test(this.protocols.get(offerer) ?? '') && !/^a=crypto:/m.test(reply.sdp)) {
      throw new MediaOfferRefusedError(305, 'none of the offered SRTP crypto suites (SDES, RFC 4568) can be used');
    }
    this.parties.add(label);
    this.peerKinds.set(label, from);
    this.noteProtocol(label, sdp);
    return reply.sdp;
  }

  /**
   * Answers the last offer on behalf of nobody: for a caller that only hears
   * prompts (after-hours message, voicemail greeting) before the call ends or
   * an agent is found. Resolves with the SDP to answer the caller with. The
   * local side is `sendonly` from a discard address (RFC 4566 §5.7: 0.0.0.0
   * means "do not send here"), since rtpengine 10.5 refuses to play prompts to
   * a party whose peer answered recvonly.
   */
  async answerLocal(label = 'local'): Promise<string> {
    // telephone-event too, so that the caller's RFC 4733 digits reach rtpengine (and its DTMF log).
    const sdp = [
      'v=0',
      'o=switchboard 1 1 IN IP4 0.0.0.0',
      's=switchboard',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'm=audio 9 RTP/AVP 0 8 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=sendonly',
      '',
    ].join('\r\n');
    return this.answer(label, sdp);
  }

  /**
   * Answers the last offer on behalf of `label`, a party that is not there
   * yet (an agent still ringing): resolves with the SDP for the offerer's
   * early media (a 183), which stays valid when `label` really answers later
   * (port latching). See placeholder-answer.ts; refuses an offer with nothing
   * to play or bridge (MediaOfferRefusedError).
   */
  async answerPlaceholder(label: string, offer: string): Promise<string> {
    return this.answer(label, placeholderAnswer(offer, this.instance.id.startsWith('[') ? '::1' : '127.0.0.1'));
  }

  /** Listens for DTMF digits (RFC 4733 events rtpengine saw) sent by any party of the call. */
  onDigit(listener: (label: string, digit: string, durationMs: number | undefined) => void): () => void {
    this.digitListeners.add(listener);
    return () => this.digitListeners.delete(listener);
  }

  /** @internal MediaService routes rtpengine's DTMF log here. */
  receivedDigit(label: string, event: number, durationMs: number | undefined): void {
    const digit = event >= 0 && event <= 9 ? String(event) : ['*', '#', 'A', 'B', 'C', 'D'][event - 10];
    if (digit === undefined || this.released) return;
    for (const l of [...this.digitListeners]) l(label, digit, durationMs);
  }

  private async mediaSource(prompt: RenderedPrompt): Promise<{ file: string } | { blob: Buffer }> {
    if (this.instance.promptDelivery === 'file') return { file: this.instance.promptPath(prompt.path) };
    if (prompt.bytes > MAX_INLINE_PROMPT_BYTES) {
      throw new PromptRenderError(
        `prompt ${prompt.key.slice(0, 12)} lasts ${(prompt.durationMs / 1000).toFixed(1)} s, too long to send inline to rtpengine ${this.instance.id} (at most about ${Math.floor(MAX_INLINE_PROMPT_BYTES / 8000)} s); give that instance promptDelivery: file and a shared promptDir`,
      );
    }
    return { blob: await readFile(prompt.path) };
  }

  /** Starts `prompt` for party `label` (only that party hears it). Resolves with one pass's length. */
  async play(label: string, prompt: RenderedPrompt, options: { repeat?: number } = {}): Promise<{ durationMs: number }> {
    this.assertActive('play a prompt');
    this.assertParty(label);
    const reply = await this.instance.client.request('play media', {
      'call-id': this.callId,
      label,
      ...(await this.mediaSource(prompt)),
      ...(options.repeat !== undefined && options.repeat > 1 ? { 'repeat-times': options.repeat } : {}),
    });
    return { durationMs: typeof reply.duration === 'number' ? reply.duration : prompt.durationMs };
  }

  /**
   * Plays `prompt` to `label` and resolves when it has finished (timed from
   * rtpengine's reported duration): e.g. the after-hours message before the
   * hang-up. Rejects with MediaCancelledError if aborted or released first.
   */
  async playToEnd(label: string, prompt: RenderedPrompt, options: { signal?: AbortSignal } = {}): Promise<{ durationMs: number }> {
    // rtpengine paces the file in real time from the play command; the margin covers the last packets in flight.
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, this.lifetime]) : this.lifetime;
    const started = performance.now();
    if (signal.aborted) throw new MediaCancelledError(`prompt for ${label} on call ${this.callId} cancelled`, 0);
    const { durationMs } = await this.play(label, prompt);
    const remaining = durationMs + PLAYBACK_TAIL_MS - (performance.now() - started);
    const finished = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, Math.max(0, remaining));
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (finished) return { durationMs };
    if (!this.released) await this.stopPlayback(label).catch((e: Error) => this.logger.warn({ err: e.message }, 'stop media failed'));
    throw new MediaCancelledError(`prompt for ${label} on call ${this.callId} cancelled`, performance.now() - started);
  }

  async stopPlayback(label: string): Promise<void> {
    this.assertActive('stop a prompt');
    await this.instance.client.request('stop media', { 'call-id': this.callId, label });
  }

  /** Drops everything `label` sends (the others stop hearing it). */
  async block(label: string): Promise<void> {
    this.assertActive('block media');
    this.assertParty(label);
    await this.instance.client.request('block media', { 'call-id': this.callId, label });
  }

  async unblock(label: string): Promise<void> {
    this.assertActive('unblock media');
    await this.instance.client.request('unblock media', { 'call-id': this.callId, label });
  }

  /**
   * Blocks media and RFC 4733 key events between every party of the call,
   * including a party that answers later; prompts still play. Block right after the caller's offer
   * and the agent never hears a packet of the caller before the whisper's
   * bridge (and vice versa).
   */
  async blockAll(): Promise<void> {
    this.assertActive('block media');
    // RFC 4733 key events are not media to rtpengine 10.5: they cross a media block unless blocked too.
    await Promise.all([this.instance.client.request('block media', { 'call-id': this.callId }), this.keyEvents('block DTMF')]);
  }

  /**
   * The key-event half of blockAll/unblockAll: a relay without `block DTMF`
   * (older than rtpengine 10.5) lets keys cross the block; logged, not fatal.
   */
  private async keyEvents(command: 'block DTMF' | 'unblock DTMF'): Promise<void> {
    await this.instance.client.request(command, { 'call-id': this.callId }).catch((e: unknown) => this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, `${command} refused by the media relay: key events cross the call's block`));
  }

  /** Lifts blockAll() (per-party blocks, of media and of key events, stay). */
  async unblockAll(): Promise<void> {
    this.assertActive('unblock media');
    await Promise.all([this.instance.client.request('unblock media', { 'call-id': this.callId }), this.keyEvents('unblock DTMF')]);
  }

  /**
   * Stops relaying `label`'s RFC 4733 key events to the others; rtpengine
   * still reports them (onDigit). For keys meant for us, not the far party.
   */
  async blockDigits(label: string): Promise<void> {
    this.assertActive('block DTMF');
    this.assertParty(label);
    await this.instance.client.request('block DTMF', { 'call-id': this.callId, label });
  }

  /** Replaces what `label` sends with silence (packets keep flowing; G.711/G.722 only). Not a recording redaction. */
  async silence(label: string): Promise<void> {
    this.assertActive('silence media');
    this.assertParty(label);
    await this.instance.client.request('silence media', { 'call-id': this.callId, label });
  }

  async unsilence(label: string): Promise<void> {
    this.assertActive('unsilence media');
    await this.instance.client.request('unsilence media', { 'call-id': this.callId, label });
  }

  /**
   * The whisper: the agent hears `prompt`, the caller hears `callerHold` and
   * never the prompt, then both are bridged. Resolves at the bridge with the
   * whisper's duration (wait time). Cancelled by `signal` or by release.
   * For a clean start, call blockAll() right after the caller's offer, before
   * the agent answers: then not a single packet crosses before the bridge.
   */
  async whisper(options: WhisperOptions): Promise<WhisperResult> {
    this.assertActive('whisper');
    this.assertParty(options.caller ?? 'caller');
    this.assertParty(options.agent ?? 'agent');
    return runWhisper(this, options, this.logger);
  }

  /** Starts pcap recording of the whole call (rtpengine's recording-dir, see MediaService.recordingDir). */
  async startRecording(options: { metadata?: string } = {}): Promise<void> {
    this.assertActive('start recording');
    await this.instance.client.request('start recording', {
      'call-id': this.callId,
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
    });
  }

  /** Ends the current pcap segment (rtpengine 10.5 has no pause: stop, then start again, gives a new file). */
  async stopRecording(): Promise<void> {
    this.assertActive('stop recording');
    await this.instance.client.request('stop recording', { 'call-id': this.callId });
  }

  /** rtpengine's view of the call (per-party ports, endpoints, packet counters). */
  async query(): Promise<NgCallStatsReply> {
    this.assertActive('query');
    return this.instance.client.request('query', { 'call-id': this.callId });
  }

  /**
   * When rtpengine last received RTP or RTCP from each of `labels`, in unix seconds, from one query;
   * a party that never sent counts from the stream's creation.
   */
  async lastPacketSecondsByParty(labels: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const reply = await this.query();
    return new Map(labels.map((l) => [l, lastPacketOf(reply, [l])]));
  }

  /**
   * A supervisor starts listening to the call, mixed (every party present
   * now). All supervisors of a call share one subscription and one mix.
   */
  async monitor(options: MonitorOptions = {}): Promise<MonitorSession> {
    this.assertActive('monitor');
    if (options.label !== undefined && !LABEL.test(options.label)) {
      throw new MediaStateError(`supervisor label "${options.label}" must be lower-case letters, digits and "-"`);
    }
    return this.monitoring.open(options);
  }

  private async deleteRemote(callId: string): Promise<void> {
    try {
      // At once, whatever the daemon's delete-delay: the call's pcap is then complete when the reply
      // comes (rtpengine finishes the recording as it destroys the call), so a recording need not be
      // stopped first, and the call id is free again.
      await this.instance.client.request('delete', { 'call-id': callId, 'delete-delay': 0 });
    } catch (e) {
      this.logger.warn({ rtpengineCallId: callId, err: (e as Error).message }, 'rtpengine delete failed (released locally anyway)');
      if (e instanceof RtpengineTimeoutError) this.options.onDeleteUnanswered?.(callId);
    }
  }

  /** Local clean-up; resolves with the supervisor relay legs still open at rtpengine. */
  private async releaseLocalParts(): Promise<string[]> {
    this.digitListeners.clear();
    this.lifetimeController.abort(new MediaCancelledError(`call ${this.callId} media released`, 0));
    return this.monitoring.closeAll();
  }

  /**
   * Releases the call's media: local clean-up, then `delete` at rtpengine for
   * the call and any supervisor relay legs (failures logged, never thrown).
   * Idempotent: later calls return the same promise.
   */
  release(): Promise<void> {
    this.isReleased = true;
    this.releasing ??= (async () => {
      const relays = await this.releaseLocalParts();
      await Promise.all(this.inFlight);
      await Promise.all([this.callId, ...relays].map((id) => this.deleteRemote(id)));
      this.options.onReleased?.(this);
    })();
    return this.releasing;
  }

  /** Releases only locally: rtpengine lost the call already (it restarted). Idempotent. */
  releaseLocal(): Promise<void> {
    this.isReleased = true;
    this.releasing ??= (async () => {
      await this.releaseLocalParts();
      this.options.onReleased?.(this);
    })();
    return this.releasing;
  }
}
