/**
 * Silent monitoring of one call: one rtpengine subscription (`subscribe
 * request` / `subscribe answer`, one sendonly m-line per party, see
 * ../shared/specs/rtpengine-10.5-notes.md) received on our own sockets, one
 * jitter buffer per party, one mix every 20 ms, and any number of supervisor
 * outputs fed from that one mix.
 *
 * Why one subscription fanned out rather than one per supervisor: the mix is
 * computed once per call whatever the number of listeners (each extra
 * supervisor costs one G.711 encode at most, shared per codec, and one
 * datagram), rtpengine relays two streams per call instead of two per
 * supervisor, and adding or removing a supervisor never touches rtpengine or
 * the call's legs. The price, a shared fate (one subscription for everyone),
 * is what a call's monitor is anyway.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { decodeG711, encodeG711, type G711Law } from '../../audio/g711.js';
import type { Logger } from '../../observability/logger.js';
import { MediaStateError } from '../media-errors.js';
import type { NgClient } from '../ng/ng-client.js';
import { answerDirection, buildAudioSdp, g711LawOf, parseSdp, type SdpMedia } from '../sdp.js';
import { FrameClock } from './frame-clock.js';
import { FrameMixer } from './frame-mixer.js';
import { MonitorOutput } from './monitor-output.js';
import { PlayoutBuffer, type PlayoutStats } from './playout-buffer.js';
import { parseRtp } from './rtp.js';

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
  /** Jitter allowance per party stream. */
  readonly jitterMs: number;
  readonly logger: Logger;
}

export interface CallMonitorStats {
  readonly framesMixed: number;
  readonly framesSkipped: number;
  readonly limitedFrames: number;
  readonly sources: Readonly<Record<string, PlayoutStats & { nonAudio: number }>>;
}

interface SourceLeg {
  readonly source: MonitorSource;
  readonly socket: Socket;
  readonly port: number;
  media: SdpMedia | undefined;
  readonly buffer: PlayoutBuffer;
  readonly frame: Int16Array;
  nonAudio: number;
}

export class CallMonitor {
  /** rtpengine tag of the subscription (the monitor's own "party"). */
  readonly subscriberTag = `monitor-${randomBytes(4).toString('hex')}`;
  private readonly legs: SourceLeg[] = [];
  private readonly outputs = new Set<MonitorOutput>();
  private readonly mixer = new FrameMixer(FRAME_SAMPLES);
  private readonly clock: FrameClock;
  private readonly mixed = new Int16Array(FRAME_SAMPLES);
  private readonly encoded: Record<G711Law, Uint8Array> = { pcmu: new Uint8Array(FRAME_SAMPLES), pcma: new Uint8Array(FRAME_SAMPLES) };
  private readonly scratch = new Int16Array(SAMPLE_RATE);
  private framesMixed = 0;
  private lastFrame = -1;
  private subscribed = false;
  private stopped = false;

  private constructor(private readonly options: CallMonitorOptions) {
    this.clock = new FrameClock(FRAME_MS, (i) => this.onFrame(i));
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
    const { client, callId, sources, bindAddress, jitterMs } = this.options;
    for (const source of sources) {
      const socket = createSocket(bindAddress.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, bindAddress, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const leg: SourceLeg = {
        source,
        socket,
        port: socket.address().port,
        media: undefined,
        buffer: new PlayoutBuffer({ delaySamples: Math.round((jitterMs * SAMPLE_RATE) / 1000) }),
        frame: new Int16Array(FRAME_SAMPLES),
        nonAudio: 0,
      };
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
    this.clock.begin();
  }

  private onPacket(leg: SourceLeg, msg: Buffer): void {
    const rtp = parseRtp(msg);
    if (rtp === undefined || leg.media === undefined) return;
    const law = g711LawOf(leg.media, rtp.payloadType);
    if (law === undefined) {
      leg.nonAudio++; // telephone-event, comfort noise: silence is what the mix gets
      return;
    }
    if (rtp.payload.length > this.scratch.length) return; // over a second in one packet: not a phone stream
    const pcm = decodeG711(law, rtp.payload, this.scratch.subarray(0, rtp.payload.length));
    leg.buffer.push(rtp.ssrc, rtp.sequenceNumber, rtp.timestamp, pcm);
  }

  private onFrame(frameIndex: number): void {
    // Frames the clock skipped after a stall are dropped from every buffer too, keeping parties aligned.
    for (let f = this.lastFrame + 1; f < frameIndex; f++) for (const leg of this.legs) leg.buffer.read(leg.frame);
    this.lastFrame = frameIndex;
    for (const leg of this.legs) leg.buffer.read(leg.frame);
    this.mixer.mix(
      this.legs.map((l) => l.frame),
      this.mixed,
    );
    this.framesMixed++;
    if (this.outputs.size === 0) return;
    const needed = new Set<G711Law>();
    for (const o of this.outputs) if (o.codec !== undefined) needed.add(o.codec);
    for (const law of needed) encodeG711(law, this.mixed, this.encoded[law]);
    for (const o of this.outputs) if (o.codec !== undefined) o.send(frameIndex, FRAME_SAMPLES, this.encoded[o.codec]);
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
    const sources: Record<string, PlayoutStats & { nonAudio: number }> = {};
    for (const l of this.legs) sources[l.source.label] = { ...l.buffer.stats, nonAudio: l.nonAudio };
    return { framesMixed: this.framesMixed, framesSkipped: this.clock.skipped, limitedFrames: this.mixer.limitedFrames, sources };
  }

  /**
   * Stops mixing and closes every socket, then (unless `remote` is false,
   * e.g. because the call is being deleted anyway) unsubscribes at rtpengine;
   * a failure there is logged, never thrown. Idempotent.
   */
  async stop(options: { remote?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.stop();
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
