/**
 * One supervisor's copy of the mixed stream: its own UDP socket (the port
 * written in the supervisor leg's SDP, so symmetric-RTP peers see the source
 * they expect), its own SSRC, sequence numbers and timestamps (RFC 3550 §5.1,
 * random initial values), and its own codec (PCMU or PCMA).
 *
 * The socket is connected to the destination (fewer kernel route lookups and
 * no address resolution per datagram) and the packet buffer is reused: a
 * datagram is handed to the kernel during send() unless the socket's queue is
 * backed up, in which case the queued buffer is left alone and a new one
 * taken. Send errors arrive as socket errors and are counted.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { G711_PAYLOAD_TYPE, type G711Law } from '../../audio/g711.js';
import { MediaStateError } from '../media-errors.js';
import { buildAudioSdp, g711LawOf, parseSdp, type RtpMap } from '../sdp.js';

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
  /** The destination the socket is connected to (until then datagrams carry the address). */
  private connectedTo: MonitorDestination | undefined;
  private connecting = false;
  private packet = Buffer.allocUnsafe(0);

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    // A supervisor device may send RTP/RTCP back despite sendonly: read and ignore it.
    socket.on('message', () => undefined);
    socket.on('error', () => {
      this.stats.sendErrors++;
    });
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
    this.connect();
  }

  private connect(): void {
    const d = this.destination;
    if (d === undefined || this.closed || this.connecting || this.connectedTo === d) return;
    if (this.connectedTo !== undefined) this.socket.disconnect();
    this.connectedTo = undefined;
    this.connecting = true;
    this.socket.connect(d.port, d.address, (err?: Error) => {
      this.connecting = false;
      if (this.closed) return;
      if (err === undefined || err === null) this.connectedTo = d;
      // The destination changed meanwhile: connect again (after a failure, datagrams keep carrying the address).
      if (this.destination !== d) this.connect();
    });
  }

  get codec(): G711Law | undefined {
    return this.destination?.codec;
  }

  /** Sends frame `frameIndex` of the mix (already encoded for this output's codec). */
  send(frameIndex: number, frameSamples: number, payload: Uint8Array): void {
    const d = this.destination;
    if (d === undefined || this.closed) return;
    const length = 12 + payload.length;
    if (this.packet.length !== length) this.packet = Buffer.allocUnsafe(length);
    const p = this.packet;
    // RFC 3550 §5.1: V=2, no padding, extension or CSRC; the marker on the first packet of the stream.
    p[0] = 0x80;
    p[1] = (this.sentAny ? 0 : 0x80) | ((d.payloadType ?? G711_PAYLOAD_TYPE[d.codec]) & 0x7f);
    p.writeUInt16BE(this.seq, 2);
    p.writeUInt32BE((this.tsBase + frameIndex * frameSamples) >>> 0, 4);
    p.writeUInt32BE(this.ssrc, 8);
    p.set(payload, 12);
    this.sentAny = true;
    this.seq = (this.seq + 1) & 0xffff;
    try {
      if (this.connectedTo === d) this.socket.send(p);
      else this.socket.send(p, d.port, d.address);
    } catch {
      this.stats.sendErrors++;
      return;
    }
    // Queued rather than sent (a full socket buffer): that datagram still needs these bytes.
    if (this.socket.getSendQueueCount() > 0) this.packet = Buffer.allocUnsafe(0);
    this.stats.packetsSent++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
