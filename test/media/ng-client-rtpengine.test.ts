/**
 * Every ng command the media plane uses, against a real rtpengine 10.5
 * (started as the engine starts it), with real RTP where the command's effect
 * is on media.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { RtpengineError } from '../../src/media/media-errors.js';
import { encodeMulawAu } from '../../src/media/prompts/au.js';
import { sineTone } from '../../src/audio/analysis.js';
import { RtpEndpoint, waitFor } from '../support/rtp/rtp-endpoint.js';
import { bySsrc, median, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { startTestRtpengine, type TestRtpengine } from '../support/rtp/rtpengine-harness.js';
import { sleep } from '../support/harness.js';

let rig: TestRtpengine;
const endpoints: RtpEndpoint[] = [];

beforeAll(async () => {
  rig = await startTestRtpengine();
});
afterAll(async () => {
  for (const e of endpoints) e.close();
  await rig?.stop();
});


/** A two-party call through rtpengine, both sides sending tones. */
async function call(callId: string) {
  const client = rig.rtpengine.client;
  const a = await RtpEndpoint.open();
  const b = await RtpEndpoint.open();
  endpoints.push(a, b);
  const offer = await client.request('offer', { 'call-id': callId, 'from-tag': 'caller', label: 'caller', sdp: a.sdp({ codecs: ['pcmu'] }) });
  b.setRemoteFromSdp(offer.sdp);
  const answer = await client.request('answer', { 'call-id': callId, 'from-tag': 'caller', 'to-tag': 'agent', label: 'agent', sdp: b.sdp({ codecs: ['pcmu'] }) });
  a.setRemoteFromSdp(answer.sdp);
  const toneA = a.startTone({ frequency: 440 });
  const toneB = b.startTone({ frequency: 1000 });
  return { a, b, offer, answer, toneA, toneB };
}

/** Packets and dominant tone level received in [from, to). */
function heard(ep: RtpEndpoint, freq: number, from: number, to: number) {
  const packets = ep.receivedBetween(from, to);
  return { packets: packets.length, level: median(toneLevels(streamPcm(packets), freq)) };
}

describe('ng client against a real rtpengine', () => {
  it('ping answers pong', async () => {
    await expect(rig.rtpengine.client.request('ping', {})).resolves.toMatchObject({ result: 'pong' });
  });

  it('offer/answer rewrite the SDP to rtpengine\'s ports and the call relays both ways', async () => {
    const { a, b, offer, answer } = await call('ng-relay');
    expect(offer.sdp).not.toContain(`m=audio ${a.port} `);
    expect(answer.sdp).not.toContain(`m=audio ${b.port} `);
    expect(await waitFor(() => a.received.length > 40 && b.received.length > 40, 10_000)).toBe(true);
    const t = a.received[10]!.arrivalMs;
    expect(heard(b, 440, t, Infinity).level).toBeGreaterThan(7000);
    expect(heard(a, 1000, t, Infinity).level).toBeGreaterThan(7000);
  });

  it('query reports each party by label with its counters; list names the call', async () => {
    const q = await rig.rtpengine.client.request('query', { 'call-id': 'ng-relay' });
    const tags = q.tags as Record<string, { label?: string; medias: { streams: { stats: { packets: number } }[] }[] }>;
    expect(tags.caller?.label).toBe('caller');
    expect(tags.agent?.label).toBe('agent');
    expect(tags.caller!.medias[0]!.streams[0]!.stats.packets).toBeGreaterThan(0);
    const list = await rig.rtpengine.client.request('list', {});
    expect(list.calls).toContain('ng-relay');
  });

  it('statistics reports the open sessions', async () => {
    const s = await rig.rtpengine.client.request('statistics', {});
    const current = (s.statistics as { currentstatistics: { sessionsown: number } }).currentstatistics;
    expect(current.sessionsown).toBeGreaterThanOrEqual(1);
  });

  it('an unknown call id is a typed error carrying rtpengine\'s reason', async () => {
    const err = await rig.rtpengine.client.request('query', { 'call-id': 'no-such-call' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtpengineError);
    expect((err as RtpengineError).code).toBe(ErrorCodes.RTPENGINE_ERROR);
    expect((err as RtpengineError).reason).toBe('Unknown call-id');
  });

  it('block media stops one direction only; unblock media resumes it', async () => {
    const { a, b } = await call('ng-block');
    const client = rig.rtpengine.client;
    await sleep(300);
    await client.request('block media', { 'call-id': 'ng-block', label: 'caller' });
    const t0 = performance.now();
    await sleep(600);
    const t1 = performance.now();
    await client.request('unblock media', { 'call-id': 'ng-block', label: 'caller' });
    await sleep(400);
    expect(heard(b, 440, t0 + 60, t1).packets).toBe(0); // caller → agent blocked
    expect(heard(a, 1000, t0 + 60, t1).level).toBeGreaterThan(7000); // agent → caller untouched
    expect(heard(b, 440, t1 + 60, Infinity).level).toBeGreaterThan(7000);
  });

  it('silence media keeps packets flowing with silent audio; unsilence restores the tone', async () => {
    const { b } = await call('ng-silence');
    const client = rig.rtpengine.client;
    await sleep(300);
    await client.request('silence media', { 'call-id': 'ng-silence', label: 'caller' });
    const t0 = performance.now();
    await sleep(600);
    const t1 = performance.now();
    await client.request('unsilence media', { 'call-id': 'ng-silence', label: 'caller' });
    await sleep(400);
    const during = heard(b, 440, t0 + 60, t1);
    expect(during.packets).toBeGreaterThan(20);
    expect(during.level).toBeLessThan(50);
    expect(heard(b, 440, t1 + 60, Infinity).level).toBeGreaterThan(7000);
  });

  it('play media to one party (file and inline blob) reports the duration; stop media ends it early', async () => {
    await call('ng-play');
    const client = rig.rtpengine.client;
    const auFile = join(rig.dir, 'tone.au');
    const au = encodeMulawAu(sineTone(700, 8000 * 2, 8000, 12000));
    writeFileSync(auFile, au);
    const fromFile = await client.request('play media', { 'call-id': 'ng-play', label: 'agent', file: auFile });
    expect(fromFile.duration).toBe(2000);
    const stopped = await client.request('stop media', { 'call-id': 'ng-play', label: 'agent' });
    expect(stopped.result).toBe('ok');
    const inline = await client.request('play media', { 'call-id': 'ng-play', label: 'caller', blob: au });
    expect(inline.duration).toBe(2000);
  });

  it('subscribe request offers one sendonly m-line per party; subscribe answer starts the streams; unsubscribe ends them', async () => {
    const { toneA, toneB } = await call('ng-sub');
    const client = rig.rtpengine.client;
    const s1 = await RtpEndpoint.open();
    const s2 = await RtpEndpoint.open();
    endpoints.push(s1, s2);
    const sub = await client.request('subscribe request', { 'call-id': 'ng-sub', 'from-tags': ['caller', 'agent'], 'to-tag': 'mon' });
    expect(sub['from-tags']).toEqual(['caller', 'agent']);
    const mlines = sub.sdp.split('\r\n').filter((l) => l.startsWith('m=audio'));
    expect(mlines).toHaveLength(2);
    expect(sub.sdp.match(/a=sendonly/g)).toHaveLength(2);
    const answer = [s1, s2]
      .map((s, i) => s.sdp({ codecs: ['pcmu'], telephoneEvent: true, direction: 'recvonly', sessionId: i }))
      .map((sdp, i) => (i === 0 ? sdp : sdp.slice(sdp.indexOf('m=audio'))))
      .join('');
    await client.request('subscribe answer', { 'call-id': 'ng-sub', 'to-tag': 'mon', sdp: answer });
    expect(await waitFor(() => s1.received.length > 30 && s2.received.length > 30, 10_000)).toBe(true);
    expect(median(toneLevels(streamPcm(s1.received), 440))).toBeGreaterThan(7000);
    expect(median(toneLevels(streamPcm(s2.received), 1000))).toBeGreaterThan(7000);
    // Each party's original SSRC is kept on its subscription line.
    expect([...bySsrc(s1.received).keys()]).toEqual(toneA.ssrcs);
    expect([...bySsrc(s2.received).keys()]).toEqual(toneB.ssrcs);
    await client.request('unsubscribe', { 'call-id': 'ng-sub', 'to-tag': 'mon' });
    await sleep(100);
    const n = s1.received.length;
    await sleep(300);
    expect(s1.received.length - n).toBeLessThanOrEqual(1);
  });

  it('start/stop recording writes a pcap into the recording directory', async () => {
    await call('ng-rec');
    const client = rig.rtpengine.client;
    await client.request('start recording', { 'call-id': 'ng-rec', metadata: 'test=1' });
    await sleep(600);
    await client.request('stop recording', { 'call-id': 'ng-rec' });
    const pcaps = join(rig.rtpengine.recordingDir, 'pcaps');
    expect(await waitFor(() => existsSync(pcaps) && readdirSync(pcaps).some((f) => f.startsWith('ng-rec')), 10_000)).toBe(true);
    const file = readdirSync(pcaps).find((f) => f.startsWith('ng-rec'))!;
    // pcap global header (magic a1b2c3d4 in either byte order) followed by packets.
    const head = readFileSync(join(pcaps, file)).subarray(0, 4).toString('hex');
    expect(['d4c3b2a1', 'a1b2c3d4']).toContain(head);
    expect(statSync(join(pcaps, file)).size).toBeGreaterThan(24 + 16 * 10);
  });

  it('delete completes a recording still running: its pcap and metadata are written by the time the reply comes (no stop recording needed)', async () => {
    await call('ng-rec-del');
    const client = rig.rtpengine.client;
    await client.request('start recording', { 'call-id': 'ng-rec-del', metadata: 'test=2' });
    await sleep(600);
    const metaDir = join(rig.rtpengine.recordingDir, 'metadata');
    const metaOf = (): string[] => (existsSync(metaDir) ? readdirSync(metaDir).filter((f) => f.includes('-ng-rec-del-')) : []);
    expect(metaOf()).toEqual([]); // written only when the recording finishes
    await client.request('delete', { 'call-id': 'ng-rec-del', 'delete-delay': 0 });
    // Read at once, without waiting: the engine hands the recording over right after the delete.
    const pcaps = join(rig.rtpengine.recordingDir, 'pcaps');
    const file = readdirSync(pcaps).find((f) => f.startsWith('ng-rec-del'));
    expect(file).toBeDefined();
    // rtpengine writes the segment's metadata file (rtpengine-meta-<call id>-<hex>.txt) as it finishes the recording.
    expect(metaOf()).toHaveLength(1);
    // Both parties' tones for 600 ms: well over 40 packets of 16-byte record header + IP/UDP/RTP + 160 bytes.
    expect(statSync(join(pcaps, file!)).size).toBeGreaterThan(24 + 40 * (16 + 20 + 8 + 12 + 160));
  });

  it('delete ends the call (query then fails); deleting again is harmless', async () => {
    const client = rig.rtpengine.client;
    for (const id of ['ng-relay', 'ng-block', 'ng-silence', 'ng-play', 'ng-sub', 'ng-rec']) await client.request('delete', { 'call-id': id });
    await expect(client.request('query', { 'call-id': 'ng-relay' })).rejects.toMatchObject({ reason: 'Unknown call-id' });
    const again = await client.request('delete', { 'call-id': 'ng-relay' });
    expect(again.result).toBe('ok');
    expect(again.warning).toMatch(/not found/);
    expect((await client.request('list', {})).calls).toEqual([]);
  });
});
