/**
 * A measuring caller for the full-call benchmark: it places one call while
 * SIPp loads the engine and reports what a caller experiences: the time from
 * its INVITE to the first ringing response (180/183), to the first RTP packet
 * it receives before the answer (the engine's ringback; with SDP passed
 * through there is none: the phone plays its own on 180), and to the 200. Once answered it streams packets
 * stamped with their index for `talkMs`; the agent (SIPp `-rtp_echo`) sends
 * them back, so counting the stamps that return gives the packet loss of the
 * path caller → rtpengine → agent → rtpengine → caller exactly.
 */
import { CallerPhone } from '../../test/support/phones.js';
import { dropsAtPort } from '../lib/udp-drops.js';
import { encodeRtp } from '../../test/support/rtp/rtp-packet.js';

const STAMP = Buffer.from('SBPROBE:');
const PACKET_MS = 20;

export interface ProbeResult {
  readonly finalStatus: number | undefined;
  readonly ringingMs: number | undefined;
  readonly firstAudioMs: number | undefined;
  readonly answerMs: number | undefined;
  readonly sent: number;
  readonly echoed: number;
  /** The first indices that never came back (where in the call the loss was). */
  readonly lostIndices: readonly number[];
  /** Datagrams the kernel dropped at the probe's own RTP socket (receive buffer full), read before it closed. */
  readonly socketDrops: number;
}

function stamped(index: number, ssrc: number): Buffer {
  const payload = Buffer.alloc(160, 0xff); // PCMU silence after the stamp
  STAMP.copy(payload, 0);
  payload.writeUInt32BE(index, STAMP.length);
  return encodeRtp({ payloadType: 0, sequenceNumber: index & 0xffff, timestamp: index * 160, ssrc, marker: index === 0, payload });
}

function stampOf(payload: Buffer): number | undefined {
  return payload.length >= STAMP.length + 4 && payload.subarray(0, STAMP.length).equals(STAMP) ? payload.readUInt32BE(STAMP.length) : undefined;
}

/** One call to `number` at `target`; bounded by `timeoutMs` for the answer. */
export async function probeCall(target: { host: string; port: number }, number: string, o: { talkMs: number; timeoutMs?: number }): Promise<ProbeResult> {
  const phone = await CallerPhone.create(0);
  phone.autoTone = false;
  try {
    const t0 = performance.now();
    const call = phone.dial(target, number);
    await call.waitFinal(o.timeoutMs ?? 30_000).catch(() => undefined);
    const ringing = call.responseTimes.find((r) => r.status === 180 || r.status === 183);
    const answer = call.responseTimes.find((r) => r.status >= 200);
    // Early media only: audio that reaches the caller before the answer (the engine's ringback).
    const firstAudio = phone.rtp.received.find((p) => answer === undefined || p.arrivalMs < answer.atMs)?.arrivalMs;
    let sent = 0;
    const seen = new Set<number>();
    if (call.finalStatus !== undefined && call.finalStatus < 300) {
      const ssrc = (Math.random() * 0xffffffff) >>> 0;
      const start = performance.now();
      while (sent * PACKET_MS < o.talkMs) {
        phone.rtp.sendRaw(stamped(sent, ssrc));
        sent++;
        await new Promise((r) => setTimeout(r, Math.max(0, start + sent * PACKET_MS - performance.now())));
      }
      // The last packets' round trip, generously, before hanging up.
      await new Promise((r) => setTimeout(r, 500));
      for (const p of phone.rtp.received) {
        const i = stampOf(p.payload);
        if (i !== undefined && i < sent) seen.add(i);
      }
      const before = call.responses.length;
      call.hangUp();
      await call.until(() => call.responses.length > before, 'the answer to BYE', 10_000).catch(() => undefined);
    } else if (call.finalStatus === undefined) {
      call.cancel();
    }
    const socketDrops = dropsAtPort(phone.rtp.port);
    return {
      socketDrops,
      finalStatus: call.finalStatus,
      ringingMs: ringing !== undefined ? ringing.atMs - t0 : undefined,
      firstAudioMs: firstAudio !== undefined ? firstAudio - t0 : undefined,
      answerMs: answer !== undefined ? answer.atMs - t0 : undefined,
      sent,
      echoed: seen.size,
      lostIndices: [...Array(sent).keys()].filter((i) => !seen.has(i)).slice(0, 20),
    };
  } finally {
    phone.close();
  }
}
