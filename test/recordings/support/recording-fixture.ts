/**
 * Recordings as the call side leaves them: rtpengine-style capture files (a
 * pcap per segment plus the metadata file carrying our marker) and the
 * manifest the capture writes at hang-up.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { segmentMarker } from '../../../src/recordings/capture/segment-locator.js';
import type { RecordingManifest } from '../../../src/recordings/store/manifest.js';
import { agentStream, byTime, callerStream, synthStream, writePcap, type SynthPacket } from './rtp-call.js';

/** Writes one segment the way rtpengine does and returns the pcap path. */
export function writeRtpengineSegment(captureDir: string, callId: string, recordingId: string, segment: number, fromMicros: number, seconds: number, payloadTypes: { caller?: number; agent?: number } = {}): string {
  mkdirSync(join(captureDir, 'pcaps'), { recursive: true });
  mkdirSync(join(captureDir, 'metadata'), { recursive: true });
  const name = `${encodeURIComponent(callId)}-${randomBytes(8).toString('hex')}`;
  const pcap = join(captureDir, 'pcaps', `${name}.pcap`);
  const packets = Math.round(seconds * 50);
  const first = Math.round(((fromMicros - 1_700_000_000_000_000) / 20_000));
  const inType = (pt: number | undefined) => (p: SynthPacket): SynthPacket => {
    if (pt === undefined) return p;
    const payload = Buffer.from(p.udp.payload);
    payload[1] = (payload[1]! & 0x80) | pt;
    return { ...p, udp: { ...p.udp, payload } };
  };
  writePcap(pcap, byTime(synthStream(callerStream(), fromMicros, packets, first).map(inType(payloadTypes.caller)), synthStream(agentStream(), fromMicros, packets, first).map(inType(payloadTypes.agent))));
  writeFileSync(
    join(captureDir, 'metadata', `rtpengine-meta-${name}.txt`),
    `/var/spool/rtpengine/pcaps/${name}.pcap\n\n\nTimestamp terminated ms(first monologue): 0.000\n\ncall start time: x\ncall end time: y\n\n\n${segmentMarker(recordingId, segment)}\n`,
  );
  return pcap;
}

export interface FixtureOptions {
  readonly recordingId: string;
  readonly captureDir: string;
  readonly seconds: number;
  readonly startedAt?: number;
  readonly retentionMs?: number;
  readonly ticketId?: string;
  /** Keep a copy of the capture here (to compute the expected audio independently). */
  readonly copyTo?: string;
  /** The parties' RTP in these payload types instead of PCMU (a codec the converter does not decode). */
  readonly payloadTypes?: { readonly caller?: number; readonly agent?: number };
}

export const T0_MICROS = 1_700_000_000_000_000;

/** A one-segment recording of `seconds` with the caller at 440 Hz and the agent at 1000 Hz. */
export function recordingFixture(o: FixtureOptions): { manifest: RecordingManifest; pcap: string; copy?: string } {
  const callId = `${o.recordingId}@test.invalid`;
  const pcap = writeRtpengineSegment(o.captureDir, callId, o.recordingId, 1, T0_MICROS, o.seconds, o.payloadTypes);
  let copy: string | undefined;
  if (o.copyTo !== undefined) {
    mkdirSync(o.copyTo, { recursive: true });
    copy = join(o.copyTo, `${o.recordingId}.pcap`);
    copyFileSync(pcap, copy);
  }
  const started = o.startedAt ?? Date.now();
  const manifest: RecordingManifest = {
    version: 1,
    recordingId: o.recordingId,
    callId,
    ...(o.ticketId !== undefined ? { ticketId: o.ticketId } : {}),
    queue: { id: 'support', name: 'Support' },
    caller: { number: '+15551230000' },
    agent: { id: 'agent-7', name: 'Agent Seven', uri: 'sip:1007@127.0.0.1' },
    contact: { name: '+15551230000', phone: '+15551230000', anonymous: false },
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(started + o.seconds * 1000).toISOString(),
    pauses: [],
    expiresAt: new Date(started + (o.retentionMs ?? 7 * 24 * 3600 * 1000)).toISOString(),
    capture: { segments: 1, parties: { caller: { localPort: callerStream().dstPort }, agent: { localPort: agentStream().dstPort } } },
    state: 'captured',
  };
  return { manifest, pcap, ...(copy !== undefined ? { copy } : {}) };
}
