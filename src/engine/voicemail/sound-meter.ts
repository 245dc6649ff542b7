/**
 * Hearing whether the caller is still speaking while a voicemail records:
 * the call's monitor mix (src/media/monitor: one subscription to the parties'
 * streams, mixed every 20 ms) is sent to a socket of ours and its level
 * measured frame by frame. rtpengine 10.5 reports no audio levels, and this is
 * the only audio of a voicemail that passes through Node.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decodeG711 } from '../../audio/g711.js';
import { parseRtp, RtpView } from '../../audio/rtp-header.js';
import type { CallMedia, MonitorSession } from '../../media/index.js';

/** RMS of a 20 ms frame above which it counts as sound (about -42 dBFS: above line noise, below quiet speech). */
const SOUND_RMS = 250;

export class SoundMeter {
  /** When sound was last heard (epoch ms), or when metering began. */
  lastSoundAt: number;
  /** Frames measured (a meter that hears no frames at all cannot tell silence). */
  frames = 0;
  private readonly view = new RtpView();
  private pcm = new Int16Array(160);

  private constructor(
    private readonly socket: Socket,
    private readonly monitor: MonitorSession,
    private readonly now: () => number,
  ) {
    this.lastSoundAt = now();
    socket.on('message', (msg) => this.measure(msg));
  }

  static async start(media: CallMedia, now: () => number): Promise<SoundMeter> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.on('error', () => undefined);
    try {
      const monitor = await media.monitor({ label: 'voicemail-meter', destination: { address: '127.0.0.1', port: socket.address().port, codec: 'pcmu' } });
      return new SoundMeter(socket, monitor, now);
    } catch (e) {
      socket.close();
      throw e;
    }
  }

  private measure(msg: Buffer): void {
    if (parseRtp(msg, 0, msg.length, this.view) !== undefined || this.view.payloadType !== 0) return;
    const payload = msg.subarray(this.view.payloadStart, this.view.payloadEnd);
    if (this.pcm.length !== payload.length) this.pcm = new Int16Array(payload.length);
    decodeG711('pcmu', payload, this.pcm);
    let sum = 0;
    for (const s of this.pcm) sum += s * s;
    this.frames++;
    if (Math.sqrt(sum / Math.max(1, this.pcm.length)) >= SOUND_RMS) this.lastSoundAt = this.now();
  }

  /** Milliseconds since sound was last heard. */
  silentFor(): number {
    return this.now() - this.lastSoundAt;
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.monitor.close().catch(() => undefined);
  }
}
