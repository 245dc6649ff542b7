import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { convertPcapsToPcm, undecodableNote, type PcmConversionInput, type PcmConversionReport } from '../../src/recordings/convert/pcap-to-pcm.js';
import { ErrorCodes } from '../../src/errors.js';
import { PcapWriter, type LinkKind } from './support/pcap-writer.js';
import { agentStream, byTime, callerStream, rtpPacket, synthStream, writePcap, AGENT_PORT, CALLER_PORT, type SynthPacket } from './support/rtp-call.js';
import { level, mono, silentSpans, splitStereo, toneLevel } from './support/audio-check.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-rec-pcm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000; // µs
let n = 0;
const file = (name: string): string => join(dir, `${n++}-${name}.pcap`);

async function convert(input: Omit<PcmConversionInput, 'layout'> & { layout?: 'stereo' | 'mono' }): Promise<{ pcm: Buffer; report: PcmConversionReport }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const report = await convertPcapsToPcm({ layout: 'stereo', ...input }, out);
  out.end();
  return { pcm: Buffer.concat(chunks), report };
}

/** 2 s caller tone from t=0, 1.5 s agent tone from t=0.5 s. */
function basicCall(): SynthPacket[] {
  return byTime(synthStream(callerStream(), T0, 100), synthStream(agentStream(), T0 + 500_000, 75));
}

describe('pcap → PCM: caller left, agent right, on the capture timeline', () => {
  it('puts the caller tone on the left and the agent tone on the right, each from when it started', async () => {
    const { pcm, report } = await convert({ segments: [writePcap(file('basic'), basicCall())] });
    const { left, right } = splitStereo(pcm);
    expect(left.length).toBe(16_000); // 2.0 s
    expect(toneLevel(left, 100, 1900, 440)).toBeGreaterThan(6000);
    expect(toneLevel(left, 100, 1900, 1000)).toBeLessThan(200);
    expect(toneLevel(right, 600, 1900, 1000)).toBeGreaterThan(6000);
    expect(toneLevel(right, 600, 1900, 440)).toBeLessThan(200);
    expect(silentSpans(right)).toEqual([{ from: 0, to: 500 }]);
    expect(silentSpans(left)).toEqual([]);
    expect(report.parties.caller.audioPackets).toBe(100);
    expect(report.parties.agent.audioPackets).toBe(75);
    expect(report.assignment).toBe('order-of-appearance');
  });

  it.each<[string, { link?: LinkKind; nanosecond?: boolean; bigEndian?: boolean; v6?: boolean }]>([
    ['Ethernet', { link: 'ethernet' }],
    ['Linux cooked (SLL)', { link: 'sll' }],
    ['Linux cooked v2 (SLL2)', { link: 'sll2' }],
    ['BSD loopback', { link: 'null' }],
    ['big-endian file', { bigEndian: true }],
    ['nanosecond timestamps', { nanosecond: true }],
    ['IPv6 over Ethernet', { link: 'ethernet', v6: true }],
    ['IPv6 raw', { v6: true }],
  ])('reads %s captures to the same audio as raw IPv4', async (_name, o) => {
    const reference = (await convert({ segments: [writePcap(file('ref'), basicCall())] })).pcm;
    const packets = basicCall().map((p) => (o.v6 === true ? { ...p, udp: { ...p.udp, src: '2001:db8::1', dst: '2001:db8::2' } } : p));
    const { pcm } = await convert({ segments: [writePcap(file('variant'), packets, o)] });
    expect(pcm.equals(reference)).toBe(true);
  });

  it('handles sequence-number and timestamp wraparound without a gap', async () => {
    const caller = synthStream(callerStream({ sequenceStart: 65_500, timestampStart: 2 ** 32 - 160 * 30 }), T0, 100);
    const { pcm, report } = await convert({ segments: [writePcap(file('wrap'), caller)] });
    const { left } = splitStereo(pcm);
    expect(left.length).toBe(16_000);
    expect(silentSpans(left)).toEqual([]);
    expect(report.parties.caller.lost).toBe(0);
  });

  it('fills lost packets with silence of exactly their length and keeps what follows in place', async () => {
    const caller = synthStream(callerStream(), T0, 100).filter((p, i) => i < 40 || i >= 45);
    const { pcm, report } = await convert({ segments: [writePcap(file('loss'), caller)] });
    const { left } = splitStereo(pcm);
    expect(left.length).toBe(16_000);
    expect(silentSpans(left)).toEqual([{ from: 800, to: 900 }]);
    expect(report.parties.caller.lost).toBe(5);
  });

  it('drops duplicates and puts reordered packets back in sequence', async () => {
    const clean = (await convert({ segments: [writePcap(file('clean'), basicCall())] })).pcm;
    const messy = basicCall();
    // duplicate ten packets, arriving 30 ms after the originals
    for (const p of messy.slice(20, 30)) messy.push({ ...p, time: p.time + 30_000 });
    // swap arrival order of pairs of caller packets (each arrives in the other's slot)
    const callerIdx = messy.map((p, i) => (p.party === 'caller' ? i : -1)).filter((i) => i >= 0);
    for (let k = 50; k < 70; k += 2) {
      const a = messy[callerIdx[k]!]!;
      const b = messy[callerIdx[k + 1]!]!;
      const t = a.time;
      a.time = b.time;
      b.time = t;
    }
    const { pcm, report } = await convert({ segments: [writePcap(file('messy'), byTime(messy))] });
    expect(report.parties.caller.duplicates + report.parties.agent.duplicates).toBe(10);
    expect(report.parties.caller.reordered).toBeGreaterThanOrEqual(10);
    expect(pcm.equals(clean)).toBe(true);
  });

  it('follows a change of SSRC (new sequence and timestamp base) at the time it happens', async () => {
    const first = synthStream(callerStream(), T0, 50);
    const second = synthStream(callerStream({ ssrc: 0xabcdef01, sequenceStart: 30_000, timestampStart: 123 }), T0 + 1_000_000, 50, 50);
    const { pcm, report } = await convert({ segments: [writePcap(file('ssrc'), [...first, ...second])] });
    const { left } = splitStereo(pcm);
    expect(left.length).toBe(16_000);
    expect(silentSpans(left)).toEqual([]);
    expect(toneLevel(left, 900, 1100, 440)).toBeGreaterThan(6000);
    expect(report.parties.caller.streams).toBe(2);
  });

  it('re-anchors a stream whose timestamp jumps (sender reset) instead of drifting into the wrong place', async () => {
    const a = synthStream(callerStream(), T0, 50);
    const b = synthStream(callerStream({ sequenceStart: 1050, timestampStart: 50_000 - 5_000_000 }), T0 + 1_000_000, 50, 50);
    const { pcm, report } = await convert({ segments: [writePcap(file('jump'), [...a, ...b])] });
    expect(splitStereo(pcm).left.length).toBe(16_000);
    expect(report.parties.caller.resyncs).toBe(1);
  });

  it('anchors a stream on its least delayed first packets, not on a first packet that came late', async () => {
    const agent = synthStream(agentStream(), T0, 100);
    const caller = synthStream(callerStream(), T0, 100);
    caller[0]!.time = T0 + 15_000; // the sender's timer fired late: packets 0 and 1 leave together
    caller[1]!.time = T0 + 20_000;
    const { pcm } = await convert({ segments: [writePcap(file('late-first'), byTime(agent, caller))] });
    const { left } = splitStereo(pcm);
    expect(silentSpans(left)).toEqual([]);
    expect(left.length).toBe(16_000);
  });

  it('turns a pause (two capture segments) into silence as long as the pause', async () => {
    const seg1 = byTime(synthStream(callerStream(), T0, 100), synthStream(agentStream(), T0, 100));
    // recording stopped at 2 s, started again at 5 s; the parties kept talking meanwhile
    const seg2 = byTime(synthStream(callerStream(), T0 + 5_000_000, 100, 250), synthStream(agentStream(), T0 + 5_000_000, 100, 250));
    const { pcm, report } = await convert({ segments: [writePcap(file('seg2'), seg2), writePcap(file('seg1'), seg1)] });
    const { left, right } = splitStereo(pcm);
    expect(report.segments).toBe(2);
    expect(left.length).toBe(7 * 8000);
    expect(silentSpans(left)).toEqual([{ from: 2000, to: 5000 }]);
    expect(silentSpans(right)).toEqual([{ from: 2000, to: 5000 }]);
    expect(toneLevel(left, 5100, 6900, 440)).toBeGreaterThan(6000);
    expect(toneLevel(right, 5100, 6900, 1000)).toBeGreaterThan(6000);
  });

  it('a recording paused when the call ended gets the pause\'s length of silence after its last packet', async () => {
    const seg = byTime(synthStream(callerStream(), T0, 100), synthStream(agentStream(), T0, 100));
    const { pcm } = await convert({ segments: [writePcap(file('paused-end'), seg)], trailingSilenceMs: 4000 });
    const { left, right } = splitStereo(pcm);
    expect(left.length).toBe(6 * 8000);
    expect(silentSpans(left)).toEqual([{ from: 2000, to: 6000 }]);
    expect(silentSpans(right)).toEqual([{ from: 2000, to: 6000 }]);
    const { pcm: none } = await convert({ segments: [writePcap(file('not-paused-end'), seg)] });
    expect(splitStereo(none).left.length).toBe(2 * 8000);
  });

  it('mixes both parties into one channel in mono', async () => {
    const { pcm, report } = await convert({ segments: [writePcap(file('mono'), basicCall())], layout: 'mono' });
    const m = mono(pcm);
    expect(report.channels).toBe(1);
    expect(m.length).toBe(16_000);
    expect(toneLevel(m, 100, 450, 440)).toBeGreaterThan(6000);
    expect(toneLevel(m, 100, 450, 1000)).toBeLessThan(200);
    expect(toneLevel(m, 600, 1900, 440)).toBeGreaterThan(6000);
    expect(toneLevel(m, 600, 1900, 1000)).toBeGreaterThan(6000);
  });

  it('assigns parties by rtpengine port when told, whatever order they appear in', async () => {
    const packets = byTime(synthStream(agentStream(), T0, 100), synthStream(callerStream(), T0 + 500_000, 75));
    const { pcm, report } = await convert({
      segments: [writePcap(file('sel'), packets)],
      parties: { caller: { localPort: CALLER_PORT }, agent: { localPort: AGENT_PORT } },
    });
    const { left, right } = splitStereo(pcm);
    expect(report.assignment).toBe('selectors');
    expect(toneLevel(left, 600, 1900, 440)).toBeGreaterThan(6000);
    expect(toneLevel(right, 100, 1900, 1000)).toBeGreaterThan(6000);
  });

  it('ignores flows that belong to no party, RTCP, STUN, DTMF events and comfort noise', async () => {
    const packets = basicCall();
    const extra: SynthPacket[] = [];
    for (let i = 0; i < 10; i++) {
      const t = T0 + i * 100_000;
      const base = { party: 'caller' as const, sequence: 0, timestamp: 0 };
      extra.push({ ...base, time: t, udp: { src: '127.0.0.1', srcPort: 9999, dst: '127.0.0.1', dstPort: 41_000, payload: rtpPacket({ payloadType: 0, sequence: i, timestamp: i * 160, ssrc: 5, payload: Buffer.alloc(160, 0x10) }) } });
      const rtcp = Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, ...Array<number>(20).fill(0)]);
      extra.push({ ...base, time: t + 1, udp: { src: '127.0.0.1', srcPort: 5004, dst: '127.0.0.1', dstPort: CALLER_PORT, payload: rtcp } });
      const stun = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, ...Array<number>(12).fill(1)]);
      extra.push({ ...base, time: t + 2, udp: { src: '127.0.0.1', srcPort: 5004, dst: '127.0.0.1', dstPort: CALLER_PORT, payload: stun } });
      extra.push({ ...base, time: t + 3, udp: { src: '127.0.0.1', srcPort: 5004, dst: '127.0.0.1', dstPort: CALLER_PORT, payload: rtpPacket({ payloadType: 101, sequence: 5000 + i, timestamp: 0, ssrc: 0x11111111, payload: Buffer.from([1, 0x80, 0, 160]) }) } });
      extra.push({ ...base, time: t + 4, udp: { src: '127.0.0.1', srcPort: 5004, dst: '127.0.0.1', dstPort: CALLER_PORT, payload: rtpPacket({ payloadType: 13, sequence: 6000 + i, timestamp: 0, ssrc: 0x11111111, payload: Buffer.from([40]) }) } });
    }
    const reference = (await convert({ segments: [writePcap(file('ref2'), packets)], parties: { caller: { localPort: CALLER_PORT }, agent: { localPort: AGENT_PORT } } })).pcm;
    const { pcm, report } = await convert({
      segments: [writePcap(file('noise'), byTime(packets, extra))],
      parties: { caller: { localPort: CALLER_PORT }, agent: { localPort: AGENT_PORT } },
    });
    expect(pcm.equals(reference)).toBe(true);
    expect(report.skipped['unassigned-flow']).toBe(10);
    expect(report.skipped.rtcp).toBe(10);
    expect(report.skipped['not-rtp']).toBe(10);
    expect(report.parties.caller.nonAudio).toBe(20);
    expect(report.flows.find((f) => f.party === 'unassigned')?.destination).toBe('127.0.0.1:41000');
  });

  it('handles RTP with CSRCs, a header extension and padding', async () => {
    const packets = synthStream(callerStream(), T0, 50).map((p) => {
      const raw = Buffer.from(p.udp.payload);
      const payload = raw.subarray(12);
      const fancy = rtpPacket({ payloadType: 0, sequence: p.sequence, timestamp: p.timestamp, ssrc: 0x11111111, payload, csrcs: 2, extensionWords: 3, padding: 4 });
      return { ...p, udp: { ...p.udp, payload: fancy } };
    });
    const plain = (await convert({ segments: [writePcap(file('plain'), synthStream(callerStream(), T0, 50))] })).pcm;
    const { pcm } = await convert({ segments: [writePcap(file('fancy'), packets)] });
    expect(pcm.equals(plain)).toBe(true);
  });

  it('decodes A-law as well as µ-law', async () => {
    const { pcm } = await convert({ segments: [writePcap(file('alaw'), synthStream(callerStream({ law: 'pcma' }), T0, 50))] });
    expect(toneLevel(splitStereo(pcm).left, 0, 1000, 440)).toBeGreaterThan(6000);
  });

  it('a party whose audio is in a codec it cannot decode is silence, and the report names the payload type', async () => {
    const g722 = synthStream(callerStream(), T0, 20).map((p) => {
      const b = Buffer.from(p.udp.payload);
      b[1] = 9;
      return { ...p, udp: { ...p.udp, payload: b } };
    });
    const { pcm, report } = await convert({ segments: [writePcap(file('g722'), byTime(g722, synthStream(agentStream(), T0, 20)))] });
    expect(report.parties.caller).toMatchObject({ audioPackets: 0, undecodable: { 9: 20 } });
    expect(undecodableNote(report)).toBe("the caller's audio is in a format the converter does not decode (payload type 9, 20 packets; only G.711, PCMU 0 and PCMA 8, is)");
    const { left, right } = splitStereo(pcm);
    expect(toneLevel(left, 0, 400, 440)).toBeLessThan(100);
    expect(toneLevel(right, 0, 400, 1000)).toBeGreaterThan(6000);
    const decoded = await convert({ segments: [writePcap(file('pcmu'), synthStream(callerStream(), T0, 20))] });
    expect(undecodableNote(decoded.report)).toBeUndefined();
  });

  it('tolerates a last record cut short (the writer died) and reports it', async () => {
    const full = new PcapWriter();
    for (const p of synthStream(callerStream(), T0, 50)) full.udp(p.time, p.udp);
    const buf = full.toBuffer();
    const path = file('cut');
    writeFileSync(path, buf.subarray(0, buf.length - 50));
    const { pcm, report } = await convert({ segments: [path] });
    expect(report.parties.caller.audioPackets).toBe(49);
    expect(report.truncatedTail[path]).toBeGreaterThan(0);
    expect(splitStereo(pcm).left.length).toBe(49 * 160);
  });

  it.each<[string, Buffer, string]>([
    ['an empty file', Buffer.alloc(0), 'not a pcap file'],
    ['a text file', Buffer.from('hello, this is not a capture file at all\n'), 'not a pcap file (magic number'],
    ['a pcapng file', Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, ...Array<number>(28).fill(0)]), 'pcapng files are not supported'],
  ])('rejects %s with a clear error', async (_what, bytes, message) => {
    const path = file('bad');
    writeFileSync(path, bytes);
    await expect(convert({ segments: [path] })).rejects.toMatchObject({ code: ErrorCodes.RECORDING_FORMAT, message: expect.stringContaining(message) });
  });

  it('rejects a record that claims an impossible length, saying where', async () => {
    const w = new PcapWriter();
    for (const p of synthStream(callerStream(), T0, 5)) w.udp(p.time, p.udp);
    const buf = w.toBuffer();
    buf.writeUInt32LE(10_000_000, 24 + 8);
    const path = file('corrupt');
    writeFileSync(path, buf);
    await expect(convert({ segments: [path] })).rejects.toMatchObject({ message: expect.stringContaining('corrupt pcap record at byte 24') });
  });

  it('keeps memory bounded: late packets beyond the window are dropped, not buffered', async () => {
    const caller = synthStream(callerStream(), T0, 1000); // 20 s
    const late = caller[10]!;
    const packets = [...caller.filter((p) => p !== late), { ...late, time: T0 + 19_000_000 }];
    const { pcm, report } = await convert({ segments: [writePcap(file('late'), byTime(packets))] });
    expect(report.lateSamples).toBe(160);
    expect(silentSpans(splitStereo(pcm).left)).toEqual([{ from: 200, to: 220 }]);
    expect(level(splitStereo(pcm).left, 1000, 19_000)).toBeGreaterThan(5000);
  });
});
