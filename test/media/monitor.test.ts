/**
 * Silent monitoring on a real rtpengine: the caller sends 440 Hz in PCMA with
 * loss, reordering, duplicates and an SSRC change; the agent sends 1000 Hz in
 * PCMU at half the level. Two supervisors listen to the same call, one fed
 * directly, one through an rtpengine relay leg, each in its own codec; each
 * must hear both tones at their own levels, in one continuous 20 ms stream,
 * while the call itself is untouched.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaService } from '../../src/media/media-service.js';
import type { CallMedia } from '../../src/media/call-media.js';
import type { MonitorSession } from '../../src/media/monitor/call-monitoring.js';
import { silentLogger } from '../../src/observability/logger.js';
import { bySsrc, median, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { RtpEndpoint, waitFor, type ToneStream } from '../support/rtp/rtp-endpoint.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';
import { sleep } from '../support/harness.js';

let dir: string;
let media: MediaService;
let call: CallMedia;
let caller: RtpEndpoint;
let agent: RtpEndpoint;
let sup1: RtpEndpoint;
let sup2: RtpEndpoint;
let callerTone: ToneStream;
let agentTone: ToneStream;
let direct: MonitorSession;
let relayed: MonitorSession;
let monitoringStarted = 0;
let monitoringEnded = 0;


beforeAll(async () => {
  dir = tempDir('sb-monitor-');
  // The tone senders share this process with the mixer, so on a busy shared machine they stall with
  // it and their packets come late in bursts: a fixed generous wait for late packets (150 ms, floor =
  // cap) keeps the test about the mixer, not about scheduler stalls. The adaptive wait has its own
  // deterministic tests (call-mix, playout-deadline).
  media = await MediaService.start({ config: mediaTestConfig(dir, { media: { monitor: { jitterMs: 150, minJitterMs: 150 } } }), logger: silentLogger() });
  call = media.createCallMedia('monitored');
  caller = await RtpEndpoint.open();
  agent = await RtpEndpoint.open();
  sup1 = await RtpEndpoint.open();
  sup2 = await RtpEndpoint.open();
  agent.setRemoteFromSdp(await call.offer('caller', caller.sdp({ codecs: ['pcma', 'pcmu'] })));
  caller.setRemoteFromSdp(await call.answer('agent', agent.sdp({ codecs: ['pcma', 'pcmu'] })));
  callerTone = caller.startTone({
    frequency: 440,
    codec: 'pcma',
    amplitude: 8000,
    faults: {
      drop: (i) => i % 10 === 5, // 10 % loss
      delayMs: (i) => (i % 7 === 3 ? 45 : 0), // overtaken by the next two packets
      duplicate: (i) => i % 13 === 0,
      newSsrcAt: [100], // a new source two seconds in (e.g. an SBC re-anchoring media)
    },
  });
  agentTone = agent.startTone({ frequency: 1000, codec: 'pcmu', amplitude: 4000 });
  await sleep(200);
  monitoringStarted = performance.now();
  direct = await call.monitor({ destination: { address: '127.0.0.1', port: sup1.port, codec: 'pcmu' } });
  relayed = await call.monitor({ label: 'supervisor-2' });
  await relayed.accept(sup2.sdp({ codecs: ['pcma'], direction: 'recvonly' }));
  await sleep(4000);
  monitoringEnded = performance.now();
}, 90_000);

afterAll(async () => {
  for (const e of [caller, agent, sup1, sup2]) e?.close();
  await media?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The supervisor's audio from `fromMs` after monitoring started, until it ended. */
function heard(sup: RtpEndpoint, fromMs: number, toMs = monitoringEnded - monitoringStarted) {
  const packets = sup.receivedBetween(monitoringStarted + fromMs, monitoringStarted + toMs);
  const pcm = streamPcm(packets);
  return { packets, pcm, tone440: median(toneLevels(pcm, 440)), tone1000: median(toneLevels(pcm, 1000)) };
}

/** The endpoint's stream has stopped: nothing arrived for 300 ms (awaited, bounded: false if it goes on). */
function quiet(endpoint: RtpEndpoint): Promise<boolean> {
  return waitFor(() => performance.now() - (endpoint.received.at(-1)?.arrivalMs ?? 0) > 300, 10_000);
}

describe('monitor mixer', () => {
  it('each supervisor gets one stream in its own codec, 20 ms packets with consecutive sequence numbers', () => {
    for (const [sup, pt] of [
      [sup1, 0],
      [sup2, 8],
    ] as const) {
      const { packets } = heard(sup, 300);
      expect(bySsrc(packets).size).toBe(1);
      expect(new Set(packets.map((p) => p.payloadType))).toEqual(new Set([pt]));
      expect(packets.every((p) => p.payload.length === 160)).toBe(true);
      const sorted = [...packets].sort((a, b) => a.arrivalMs - b.arrivalMs);
      // Never a hole. Frames held up by a late packet go out together once it is in, and a burst relayed
      // by rtpengine may arrive slightly reordered (a device's jitter buffer orders by sequence number).
      const first = sorted[0]!.sequenceNumber;
      const offsets = new Set(sorted.map((p) => ((p.sequenceNumber - first + 32768) & 0xffff) - 32768));
      expect(Math.max(...offsets) - Math.min(...offsets) + 1 - offsets.size).toBe(0);
      const outOfOrder = sorted.slice(1).filter((p, i) => ((p.sequenceNumber - sorted[i]!.sequenceNumber) & 0xffff) !== 1);
      expect(outOfOrder.length).toBeLessThan(0.05 * packets.length);
      // A packet per 20 ms frame (the caller's input lost 10 %; the output did not): each sequence number a
      // frame (160 samples) after the one before, so no frame was skipped. How many frames came within the
      // window is left alone: a starved machine runs the mix late, and the frames then come after it.
      const bySequence = [...packets].sort((a, b) => ((a.sequenceNumber - first + 32768) & 0xffff) - ((b.sequenceNumber - first + 32768) & 0xffff));
      const steps = bySequence.slice(1).map((p, i) => ((p.timestamp - bySequence[i]!.timestamp) >>> 0) / (((p.sequenceNumber - bySequence[i]!.sequenceNumber) & 0xffff) || 1));
      expect(new Set(steps)).toEqual(new Set([160]));
      expect(packets.length).toBeGreaterThan(25);
    }
  });

  it('the mix holds both parties at their own levels (caller 8000, agent 4000), for both supervisors', () => {
    for (const sup of [sup1, sup2]) {
      const { tone440, tone1000 } = heard(sup, 300);
      expect(tone440).toBeGreaterThan(0.85 * 8000);
      expect(tone440).toBeLessThan(1.1 * 8000);
      expect(tone1000).toBeGreaterThan(0.85 * 4000);
      expect(tone1000).toBeLessThan(1.1 * 4000);
    }
  });

  it('loss left silence in the caller\'s part only; reordering, duplicates and the SSRC change did not break the mix', () => {
    const stats = direct.stats();
    const c = stats.sources.caller!;
    expect(c.ssrcChanges).toBe(1);
    expect(c.duplicates).toBeGreaterThan(0);
    // One packet in seven came 45 ms late (about 28 of them): they were placed, not dropped. (A few more
    // may be late on a busy machine, where the sender itself runs late: most must have been placed.)
    const delayed = callerTone.sent.filter((p) => p.index % 7 === 3 && p.sentMs >= monitoringStarted && p.sentMs < monitoringEnded).length;
    expect(delayed).toBeGreaterThan(10);
    expect(c.late).toBeLessThan(delayed / 2);
    expect(callerTone.ssrcs).toHaveLength(2);
    // After the SSRC change (2 s in) the caller is still in the mix at full level.
    const after = heard(sup1, 2600);
    expect(after.tone440).toBeGreaterThan(0.85 * 8000);
    // 10 % of the caller's 20 ms frames are missing: windows holding a lost frame are weaker in 440 Hz, not in 1000 Hz.
    const windows = toneLevels(heard(sup1, 300).pcm, 440, 160);
    const weak = windows.filter((w) => w < 0.5 * 8000).length / windows.length;
    expect(weak).toBeGreaterThan(0.05);
    expect(weak).toBeLessThan(0.2);
    const agentWindows = toneLevels(heard(sup1, 300).pcm, 1000, 160);
    expect(agentWindows.filter((w) => w < 0.5 * 4000).length / agentWindows.length).toBeLessThan(0.03);
  });

  it('both supervisors share one subscription at rtpengine; the relay leg is a separate rtpengine call', async () => {
    const q = await call.query();
    const subscriptions = Object.values(q.tags as Record<string, { subscriptions: { type: string }[] }>).filter((t) =>
      t.subscriptions.some((s) => s.type === 'pub/sub'),
    );
    expect(subscriptions).toHaveLength(1);
    expect((await call.instance.client.request('list', {})).calls.sort()).toEqual(['monitored', 'monitored~supervisor-2']);
  });

  it('the call itself is untouched: caller and agent keep hearing each other', () => {
    const window = [monitoringStarted + 300, monitoringEnded] as const;
    const atAgent = agent.receivedBetween(...window);
    const atCaller = caller.receivedBetween(...window);
    // Every packet the agent sent while being monitored reached the caller.
    const sent = agentTone.sent.filter((p) => p.sentMs >= window[0] && p.sentMs < window[1] - 100).map((p) => p.sequenceNumber);
    const got = new Set(caller.received.map((p) => p.sequenceNumber));
    expect(sent.length).toBeGreaterThan(100);
    expect(sent.filter((seq) => !got.has(seq))).toEqual([]);
    expect(median(toneLevels(streamPcm(atCaller), 1000))).toBeGreaterThan(3500);
    // The agent gets the caller's two SSRCs as they were sent (loss included).
    expect([...bySsrc(atAgent).keys()].every((s) => callerTone.ssrcs.includes(s))).toBe(true);
  });

  it('closing one supervisor stops only its stream; closing the last ends the subscription and the relay leg', async () => {
    await direct.close();
    const t = performance.now();
    // The other supervisor's stream goes on: by the time it has brought 25 more packets (half a second),
    // whatever was already on its way to the closed one has arrived (however busy this process was);
    // from then on, while the other gets 25 more, the closed one gets nothing.
    expect(await waitFor(() => sup2.receivedBetween(t).length > 25, 10_000)).toBe(true);
    const closed1 = sup1.received.length;
    const t2 = performance.now();
    expect(await waitFor(() => sup2.receivedBetween(t2).length > 25, 10_000)).toBe(true);
    expect(sup1.received.length).toBe(closed1);
    await relayed.close();
    expect(await quiet(sup2)).toBe(true);
    const q = await call.query();
    const pubsub = Object.values(q.tags as Record<string, { subscriptions: { type: string }[] }>).filter((x) => x.subscriptions.some((s) => s.type === 'pub/sub'));
    expect(pubsub).toHaveLength(0);
    expect((await call.instance.client.request('list', {})).calls).toEqual(['monitored']);
    await direct.close(); // idempotent
  });

  it('a supervisor can join again afterwards (a new subscription), and release ends it with the call', async () => {
    const sup3 = await RtpEndpoint.open();
    const again = await call.monitor({ relay: false });
    expect(again.offerSdp).toMatch(/a=sendonly/);
    await again.accept(sup3.sdp({ codecs: ['pcmu'], direction: 'recvonly' }));
    expect(await waitFor(() => sup3.received.length > 20, 10_000)).toBe(true);
    // The same subscriber party at rtpengine, subscribed again: a Monitor / Stop cycle leaves no party (and four ports) behind.
    const tags = Object.keys((await call.query()).tags as Record<string, unknown>);
    expect(tags.filter((t) => t.startsWith('monitor-'))).toHaveLength(1);
    await call.release();
    expect(await quiet(sup3)).toBe(true);
    sup3.close();
  });
});
