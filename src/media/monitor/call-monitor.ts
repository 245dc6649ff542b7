/**
 * Silent monitoring of one call: one rtpengine subscription (`subscribe
 * request` / `subscribe answer`, one sendonly m-line per party, see
 * ../shared/specs/rtpengine-10.5-notes.md) received on our own sockets, one
 * playout buffer per party, one 20 ms mix sent as soon as the parties' packets
 * are in (call-mix.ts), and any number of supervisor outputs fed from that one
 * mix: decoded, mixed and encoded once per call and frame, the same payload
 * sent to every supervisor (only the RTP header differs).
 *
 * Why one subscription fanned out rather than one per supervisor: the mix is
 * computed once per call whatever the number of listeners (each extra
 * supervisor costs one datagram, and one G.711 encode at most, shared per
 * codec), rtpengine relays two streams per call instead of two per
 * supervisor, and adding or removing a supervisor never touches rtpengine or
 * the call's legs. The price, a shared fate (one subscription for everyone),
 * is what a call's monitor is anyway.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { encodeG711, g711DecodeTable, type G711Law } from '../../audio/g711.js';
import { parseRtp, RtpView } from '../../audio/rtp-header.js';
import type { Logger } from '../../observability/logger.js';
import { MediaStateError } from '../media-errors.js';
import type { NgClient } from '../ng/ng-client.js';
import { answerDirection, buildAudioSdp, g711LawOf, parseSdp, type SdpMedia } from '../sdp.js';
import { CallMix, type CallMixStats } from './call-mix.js';
import { mixClock, type MixClock } from './mix-clock.js';
import { MonitorOutput } from './monitor-output.js';
import type { PlayoutStats } from './playout-buffer.js';

const SAMPLE_RATE = 8000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

/** A party whose audio goes into the mix. */
export interface MonitorSource {
  readonly label: string;
  /** The party's rtpengine tag. */
  readonly tag: string;
}

export interface CallMonitorOptions {
  readonly client: Pick<NgClient, 'request'>;
  readonly callId: string;
  readonly sources: readonly MonitorSource[];
  /** Local address our sockets bind to and advertise (must be reachable from rtpengine). */
  readonly bindAddress: string;
  /** Most wait for a party's late packet (ms). */
  readonly jitterMs: number;
  /** Least wait for a party's late packet (ms; capped by jitterMs); the wait adapts in between. */
  readonly minJitterMs: number;
  readonly logger: Logger;
  /** The clock that looks at deadlines (default: the process's one). */
  readonly clock?: MixClock;
  /**
   * rtpengine tag of the subscriber (default: a new one). The call's monitoring passes the same tag to every
   * subscription it makes: rtpengine 10.5 keeps an unsubscribed party, and its ports, until the call is deleted.
   */
  readonly subscriberTag?: string;
}

export interface SourceStats extends PlayoutStats {
  /** Telephone events, comfort noise and other payloads that are not G.711 audio. */
  nonAudio: number;
  /** RFC 3550 interarrival jitter of the party's stream, ms. */
  jitterMs: number;
  /** How long the mix now waits for a late packet of this party, ms. */
  waitMs: number;
}

export interface CallMonitorStats extends CallMixStats {
  readonly sources: Readonly<Record<string, SourceStats>>;
}

interface SourceLeg {
  readonly index: number;
  readonly source: MonitorSource;
  readonly socket: Socket;
  readonly port: number;
  media: SdpMedia | undefined;
  /** Decode table by payload type (undefined: not G.711 audio). */
  readonly tables: (Int16Array | undefined)[];
  nonAudio: number;
}

export class CallMonitor {
  /** rtpengine tag of the subscription (the monitor's own "party"). */
  readonly subscriberTag: string;
  private readonly legs: SourceLeg[] = [];
  private readonly outputs = new Set<MonitorOutput>();
  private readonly encoded: Record<G711Law, Uint8Array> = { pcmu: new Uint8Array(FRAME_SAMPLES), pcma: new Uint8Array(FRAME_SAMPLES) };
  private readonly view = new RtpView();
  private readonly clock: MixClock;
  private mix: CallMix | undefined;
  private subscribed = false;
  private stopped = false;

  private constructor(private readonly options: CallMonitorOptions) {
    this.clock = options.clock ?? mixClock;
    this.subscriberTag = options.subscriberTag ?? `monitor-${randomBytes(4).toString('hex')}`;
  }

  /** Subscribes to the sources and starts mixing (silence until audio arrives). */
  static async start(options: CallMonitorOptions): Promise<CallMonitor> {
    if (options.sources.length === 0) throw new MediaStateError('nothing to monitor: no parties given');
    const monitor = new CallMonitor(options);
    try {
      await monitor.open();
    } catch (e) {
      await monitor.stop();
      throw e;
    }
    return monitor;
  }

  private async open(): Promise<void> {
    const { client, callId, sources, bindAddress } = this.options;
    for (const source of sources) {
      const socket = createSocket(bindAddress.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, bindAddress, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const leg: SourceLeg = { index: this.legs.length, source, socket, port: socket.address().port, media: undefined, tables: [], nonAudio: 0 };
      socket.on('message', (msg) => this.onPacket(leg, msg));
      socket.on('error', (e) => this.options.logger.debug({ err: e.message, party: source.label }, 'monitor socket error'));
      this.legs.push(leg);
    }
    if (this.stopped) throw new MediaStateError('monitor stopped while starting');
    const offer = await client.request('subscribe request', {
      'call-id': callId,
      'from-tags': sources.map((s) => s.tag),
      'to-tag': this.subscriberTag,
    });
    this.subscribed = true;
    const media = parseSdp(offer.sdp).media;
    if (media.length !== this.legs.length) {
      throw new MediaStateError(`rtpengine offered ${media.length} m-lines for ${this.legs.length} monitored parties`);
    }
    // rtpengine lists the m-lines in the order of the from-tags it reports back.
    const order = Array.isArray(offer['from-tags']) ? offer['from-tags'].map(String) : sources.map((s) => s.tag);
    const answerLines = media.map((m, i) => {
      const leg = this.legs.find((l) => l.source.tag === order[i]) ?? this.legs[i]!;
      leg.media = m;
      for (let pt = 0; pt < 128; pt++) {
        const law = g711LawOf(m, pt);
        leg.tables[pt] = law === undefined ? undefined : g711DecodeTable(law);
      }
      // Accept every offered format so rtpengine forwards the party's audio untouched (no transcoding).
      return {
        port: leg.port,
        payloadTypes: m.payloadTypes,
        rtpmap: m.rtpmap,
        fmtp: m.fmtp,
        direction: answerDirection(m.direction, false, true),
      };
    });
    await client.request('subscribe answer', {
      'call-id': callId,
      'to-tag': this.subscriberTag,
      sdp: buildAudioSdp(bindAddress, answerLines),
    });
    if (this.stopped) throw new MediaStateError('monitor stopped while starting');
    this.mix = new CallMix(
      { parties: this.legs.length, minWaitMs: this.options.minJitterMs, maxWaitMs: this.options.jitterMs, frameMs: FRAME_MS, sampleRate: SAMPLE_RATE, onFrame: (i, pcm) => this.send(i, pcm) },
      performance.now(),
    );
    this.clock.add(this);
  }

  private onPacket(leg: SourceLeg, msg: Buffer): void {
    const mix = this.mix;
    const rtp = this.view;
    if (mix === undefined || parseRtp(msg, 0, msg.length, rtp) !== undefined) return;
    const table = leg.tables[rtp.payloadType];
    if (table === undefined) {
      leg.nonAudio++; // telephone-event, comfort noise: silence is what the mix gets
      return;
    }
    mix.push(leg.index, rtp, performance.now(), msg, table, rtp.payloadStart, rtp.payloadEnd);
  }

  /** Called by the clock: frames whose deadline has passed. */
  poll(now: number): void {
    this.mix?.poll(now);
  }

  private send(frameIndex: number, pcm: Int16Array): void {
    let pcmu = false;
    let pcma = false;
    for (const o of this.outputs) {
      const law = o.codec;
      if (law === undefined) continue;
      if (law === 'pcmu' ? !pcmu : !pcma) {
        encodeG711(law, pcm, this.encoded[law]);
        if (law === 'pcmu') pcmu = true;
        else pcma = true;
      }
      o.send(frameIndex, FRAME_SAMPLES, this.encoded[law]);
    }
  }

  /** A new supervisor output (give it a destination, or an SDP answer, before it sends). */
  async addOutput(): Promise<MonitorOutput> {
    if (this.stopped) throw new MediaStateError('monitor is stopped');
    const output = await MonitorOutput.open(this.options.bindAddress);
    if (this.stopped) {
      output.close();
      throw new MediaStateError('monitor is stopped');
    }
    this.outputs.add(output);
    return output;
  }

  removeOutput(output: MonitorOutput): void {
    output.close();
    this.outputs.delete(output);
  }

  get outputCount(): number {
    return this.outputs.size;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stats(): CallMonitorStats {
    const sources: Record<string, SourceStats> = {};
    for (const l of this.legs) {
      const b = this.mix?.buffers[l.index];
      sources[l.source.label] = {
        ...(b?.stats ?? { packets: 0, late: 0, duplicates: 0, resyncs: 0, ssrcChanges: 0, concealed: 0, slips: 0 }),
        nonAudio: l.nonAudio,
        jitterMs: round1(b?.deadlines.jitterMs ?? 0),
        waitMs: round1(b?.deadlines.marginMs ?? 0),
      };
    }
    const mix = this.mix?.stats() ?? { framesMixed: 0, framesOnDeadline: 0, framesSkipped: 0, limitedFrames: 0 };
    return { ...mix, sources };
  }

  /**
   * Stops mixing and closes every socket, then (unless `remote` is false,
   * e.g. because the call is being deleted anyway) unsubscribes at rtpengine;
   * a failure there is logged, never thrown. Idempotent.
   */
  async stop(options: { remote?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.delete(this);
    for (const o of this.outputs) o.close();
    this.outputs.clear();
    for (const l of this.legs) l.socket.close();
    if (!this.subscribed || options.remote === false) return;
    try {
      await this.options.client.request('unsubscribe', { 'call-id': this.options.callId, 'to-tag': this.subscriberTag });
    } catch (e) {
      this.options.logger.warn({ callId: this.options.callId, err: (e as Error).message }, 'unsubscribe failed (monitor already stopped locally)');
    }
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
