/**
 * One supervisor's copy of the mixed stream: its own UDP socket (the port
 * written in the supervisor leg's SDP, so symmetric-RTP peers see the source
 * they expect), its own SSRC, sequence numbers and timestamps (RFC 3550 §5.1,
 * random initial values), and its own codec (PCMU or PCMA).
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { G711_PAYLOAD_TYPE, type G711Law } from '../../audio/g711.js';
import { MediaStateError } from '../media-errors.js';
import { buildAudioSdp, g711LawOf, parseSdp, type RtpMap } from '../sdp.js';
import { writeRtp } from './rtp.js';

export interface MonitorDestination {
  readonly address: string;
  readonly port: number;
  readonly codec: G711Law;
  /** Payload type to send; the codec's static type by default. */
  readonly payloadType?: number;
}

export interface MonitorOutputStats {
  packetsSent: number;
  sendErrors: number;
}

const G711_RTPMAP: ReadonlyMap<number, RtpMap> = new Map([
  [0, { encoding: 'PCMU', clockRate: 8000 }],
  [8, { encoding: 'PCMA', clockRate: 8000 }],
]);

export class MonitorOutput {
  readonly stats: MonitorOutputStats = { packetsSent: 0, sendErrors: 0 };
  private destination: MonitorDestination | undefined;
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 65536);
  private readonly tsBase = randomInt(0, 2 ** 32 - 1);
  private sentAny = false;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    // A supervisor device may send RTP/RTCP back despite sendonly: read and ignore it.
    socket.on('message', () => undefined);
    socket.on('error', () => undefined);
  }

  static async open(bindAddress: string): Promise<MonitorOutput> {
    const socket = createSocket(bindAddress.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new MonitorOutput(socket, bindAddress, socket.address().port);
  }

  /** SDP offer for the supervisor leg: this socket, sendonly, PCMU and PCMA. */
  sdpOffer(): string {
    return buildAudioSdp(this.address, [{ port: this.port, payloadTypes: [0, 8], rtpmap: G711_RTPMAP, direction: 'sendonly', ptimeMs: 20 }]);
  }

  /**
   * Our answer to the supervisor side's offer, after setRemoteSdp(offer):
   * this socket, the one G.711 payload type chosen from the offer, sendonly
   * (RFC 3264 §6.1: the answer to a recvonly or sendrecv offer that only sends).
   */
  sdpAnswer(): string {
    const d = this.destination;
    if (d === undefined) throw new MediaStateError('the monitor output has no remote SDP to answer');
    const pt = d.payloadType ?? G711_PAYLOAD_TYPE[d.codec];
    const rtpmap = new Map<number, RtpMap>([[pt, { encoding: d.codec === 'pcmu' ? 'PCMU' : 'PCMA', clockRate: 8000 }]]);
    return buildAudioSdp(this.address, [{ port: this.port, payloadTypes: [pt], rtpmap, direction: 'sendonly', ptimeMs: 20 }]);
  }

  /** Takes the supervisor's SDP answer (or offer): where to send and which G.711 law it accepts. */
  setRemoteSdp(sdp: string): MonitorDestination {
    const audio = parseSdp(sdp).media.find((m) => m.type === 'audio' && m.port > 0);
    if (audio === undefined) throw new MediaStateError('supervisor SDP has no active audio m-line');
    if (audio.direction === 'sendonly' || audio.direction === 'inactive') {
      throw new MediaStateError(`supervisor SDP is ${audio.direction}: it would not receive the monitor stream`);
    }
    for (const pt of audio.payloadTypes) {
      const codec = g711LawOf(audio, pt);
      if (codec !== undefined) {
        const destination = { address: audio.address, port: audio.port, codec, payloadType: pt };
        this.setDestination(destination);
        return destination;
      }
    }
    throw new MediaStateError('supervisor SDP accepts neither PCMU nor PCMA');
  }

  setDestination(destination: MonitorDestination): void {
    this.destination = destination;
  }

  get codec(): G711Law | undefined {
    return this.destination?.codec;
  }

  /** Sends frame `frameIndex` of the mix (already encoded for this output's codec). */
  send(frameIndex: number, frameSamples: number, payload: Uint8Array): void {
    const d = this.destination;
    if (d === undefined || this.closed) return;
    const packet = writeRtp(
      {
        payloadType: d.payloadType ?? G711_PAYLOAD_TYPE[d.codec],
        marker: !this.sentAny,
        sequenceNumber: this.seq,
        timestamp: (this.tsBase + frameIndex * frameSamples) >>> 0,
        ssrc: this.ssrc,
      },
      payload,
    );
    this.sentAny = true;
    this.seq = (this.seq + 1) & 0xffff;
    this.socket.send(packet, d.port, d.address, (err) => {
      if (err !== null && err !== undefined) this.stats.sendErrors++;
    });
    this.stats.packetsSent++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
