/**
 * A test RTP endpoint on loopback: it plays the part of a phone. It sends
 * G.711 tones paced like a real phone (one packet per ptime, sequence number
 * +1 and timestamp +samples per packet, a random SSRC and random initial
 * sequence/timestamp as RFC 3550 §5.1 recommends), can inject faults (loss,
 * delay/reordering, duplicates, an SSRC change), and records every RTP packet
 * it receives with its arrival time so the audio can be decoded and checked.
 *
 * Used by the media-plane tests and meant for any other test that needs a
 * real RTP peer (e.g. the recordings pipeline); keep it general.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { encodeG711, G711_PAYLOAD_TYPE, type G711Law } from '../../../src/audio/g711.js';
import { decodeRtp, encodeRtp, type RtpPacket } from './rtp-packet.js';
import { audioSdp, mediaLines, type AudioSdpOptions } from './test-sdp.js';

export interface ReceivedPacket extends RtpPacket {
  /** performance.now() when the datagram arrived. */
  readonly arrivalMs: number;
  readonly from: { readonly address: string; readonly port: number };
}

/** Faults injected into an outgoing stream, by packet index (0, 1, 2, ... in send order). */
export interface StreamFaults {
  /** The packet is never sent. */
  readonly drop?: (index: number) => boolean;
  /** The packet is sent this many ms late (so later packets overtake it). */
  readonly delayMs?: (index: number) => number;
  /** The packet is sent twice. */
  readonly duplicate?: (index: number) => boolean;
  /** At these indexes the stream restarts with a new SSRC and new random sequence/timestamp. */
  readonly newSsrcAt?: readonly number[];
}

export interface ToneOptions {
  readonly frequency: number;
  readonly codec?: G711Law;
  /** Peak amplitude of the sine in 16-bit units (default 8000). */
  readonly amplitude?: number;
  readonly ptimeMs?: number;
  /** Stop after this long; runs until stop() otherwise. */
  readonly durationMs?: number;
  readonly ssrc?: number;
  readonly faults?: StreamFaults;
  /** Payload type to put in the header (default: the codec's static type). */
  readonly payloadType?: number;
}

export interface SentPacketInfo {
  readonly index: number;
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly sentMs: number;
}

/** A running outgoing stream. */
export class ToneStream {
  readonly sent: SentPacketInfo[] = [];
  readonly ssrcs: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly finished: Promise<void>;
  private finish!: () => void;
  private lastDelayedDueMs = 0;

  constructor(
    private readonly endpoint: RtpEndpoint,
    private readonly options: ToneOptions,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** Resolves when the stream ended (duration reached or stop()). */
  get done(): Promise<void> {
    return this.finished;
  }

  /** @internal */
  begin(): void {
    const codec = this.options.codec ?? 'pcmu';
    const ptime = this.options.ptimeMs ?? 20;
    const samples = (8000 * ptime) / 1000;
    const amplitude = this.options.amplitude ?? 8000;
    const pt = this.options.payloadType ?? G711_PAYLOAD_TYPE[codec];
    const faults = this.options.faults ?? {};
    const step = (2 * Math.PI * this.options.frequency) / 8000;
    let ssrc = this.options.ssrc ?? randomInt(1, 2 ** 32 - 1);
    let seq = randomInt(0, 65536);
    let ts = randomInt(0, 2 ** 32 - 1);
    this.ssrcs.push(ssrc);
    const start = performance.now();
    let index = 0;
    let sampleClock = 0;
    const total = this.options.durationMs !== undefined ? Math.floor(this.options.durationMs / ptime) : Infinity;
    const pcm = new Int16Array(samples);
    const tick = (): void => {
      if (this.stopped) return;
      const now = performance.now();
      // Send every packet that is due; a late timer catches up instead of drifting.
      while (index < total && start + index * ptime <= now) {
        if (faults.newSsrcAt?.includes(index) === true) {
          ssrc = randomInt(1, 2 ** 32 - 1);
          seq = randomInt(0, 65536);
          ts = randomInt(0, 2 ** 32 - 1);
          this.ssrcs.push(ssrc);
        }
        for (let i = 0; i < samples; i++) pcm[i] = Math.round(amplitude * Math.sin(step * (sampleClock + i)));
        const packet = encodeRtp({
          payloadType: pt,
          sequenceNumber: seq,
          timestamp: ts,
          ssrc,
          marker: index === 0,
          payload: Buffer.from(encodeG711(codec, pcm)),
        });
        this.sent.push({ index, ssrc, sequenceNumber: seq, timestamp: ts, sentMs: now });
        if (faults.drop?.(index) !== true) {
          const delay = faults.delayMs?.(index) ?? 0;
          const copies = faults.duplicate?.(index) === true ? 2 : 1;
          for (let c = 0; c < copies; c++) {
            if (delay > 0) {
              setTimeout(() => this.endpoint.sendRaw(packet), delay);
              this.lastDelayedDueMs = Math.max(this.lastDelayedDueMs, now + delay);
            } else {
              this.endpoint.sendRaw(packet);
            }
          }
        }
        index++;
        sampleClock += samples;
        seq = (seq + 1) & 0xffff;
        ts = (ts + samples) >>> 0;
      }
      if (index >= total) {
        this.stop();
        return;
      }
      this.timer = setTimeout(tick, Math.max(1, start + index * ptime - performance.now()));
    };
    tick();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    // Delayed packets still go out (they model reordering, not loss) before the stream counts as done.
    const waitMs = this.lastDelayedDueMs - performance.now();
    if (waitMs <= 0) this.finish();
    else setTimeout(() => this.finish(), waitMs + 5);
  }
}

export class RtpEndpoint {
  readonly received: ReceivedPacket[] = [];
  /** Non-RTP datagrams (RTCP and anything else) are counted, not kept. */
  nonRtpCount = 0;
  private remote: { host: string; port: number } | undefined;
  private readonly streams = new Set<ToneStream>();
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => {
      const p = decodeRtp(msg);
      if (p === undefined) {
        this.nonRtpCount++;
        return;
      }
      this.received.push({ ...p, arrivalMs: performance.now(), from: { address: rinfo.address, port: rinfo.port } });
    });
  }

  /** Binds a fresh UDP port on `host` (loopback by default). */
  static async open(host = '127.0.0.1'): Promise<RtpEndpoint> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpEndpoint(socket, host, socket.address().port);
  }

  /** An SDP describing this endpoint (for an offer or an answer). */
  sdp(options: Omit<AudioSdpOptions, 'host'> = {}): string {
    return audioSdp(this.port, { ...options, host: this.host });
  }

  /** Sends to `host:port` from now on. */
  setRemote(host: string, port: number): void {
    this.remote = { host, port };
  }

  /** Sends to where m-line `index` of the peer's SDP points. */
  setRemoteFromSdp(sdp: string, index = 0): void {
    const m = mediaLines(sdp)[index];
    if (m === undefined) throw new Error(`SDP has no m-line ${index}`);
    this.setRemote(m.host, m.port);
  }

  /** @internal used by ToneStream */
  sendRaw(packet: Buffer): void {
    if (this.closed || this.remote === undefined) return;
    this.socket.send(packet, this.remote.port, this.remote.host);
  }

  /** Starts sending a tone to the remote; returns the running stream. */
  startTone(options: ToneOptions): ToneStream {
    if (this.remote === undefined) throw new Error('setRemote first');
    const stream = new ToneStream(this, options);
    this.streams.add(stream);
    void stream.done.then(() => this.streams.delete(stream));
    stream.begin();
    return stream;
  }

  /**
   * Presses a key as RFC 4733 telephone-events (payload type 101 unless told):
   * a start packet with the marker bit, updates every 20 ms, and the end packet
   * sent three times (§2.5.1.4), all with one timestamp. Resolves when sent.
   */
  async sendDigit(digit: string, options: { payloadType?: number; durationMs?: number } = {}): Promise<void> {
    const event = '0123456789*#ABCD'.indexOf(digit.toUpperCase());
    if (event < 0) throw new Error(`not a DTMF key: ${digit}`);
    const pt = options.payloadType ?? 101;
    const steps = Math.max(2, Math.round((options.durationMs ?? 120) / 20));
    const ssrc = this.dtmfSsrc;
    const timestamp = randomInt(0, 2 ** 32 - 1);
    for (let i = 1; i <= steps + 2; i++) {
      const end = i >= steps;
      const payload = Buffer.alloc(4);
      payload[0] = event;
      payload[1] = (end ? 0x80 : 0) | 10;
      payload.writeUInt16BE(Math.min(steps, i) * 160, 2);
      this.sendRaw(encodeRtp({ payloadType: pt, sequenceNumber: this.dtmfSeq, timestamp, ssrc, marker: i === 1, payload }));
      this.dtmfSeq = (this.dtmfSeq + 1) & 0xffff;
      if (!end) await new Promise((r) => setTimeout(r, 20));
    }
  }

  private readonly dtmfSsrc = randomInt(1, 2 ** 32 - 1);
  private dtmfSeq = randomInt(0, 65536);

  /** Received packets whose arrival lies in [fromMs, toMs). */
  receivedBetween(fromMs: number, toMs = Infinity): ReceivedPacket[] {
    return this.received.filter((p) => p.arrivalMs >= fromMs && p.arrivalMs < toMs);
  }

  /** Distinct SSRCs received, in order of first arrival. */
  receivedSsrcs(): number[] {
    return [...new Set(this.received.map((p) => p.ssrc))];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams) s.stop();
    this.socket.close();
  }
}

/** Waits until `predicate` holds, polling; resolves false when `timeoutMs` passes first. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return predicate();
}
