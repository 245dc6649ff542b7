/**
 * End to end on a real rtpengine: two RTP endpoints play tones through a call,
 * the recording is started, paused (stop recording) and resumed (start
 * recording), and rtpengine's pcap segments are converted. The caller's tone
 * must be on the left, the agent's on the right, with silence as long as the
 * pause where it was; a prompt played to the agent (the whisper's mechanism)
 * must not be in the recording.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { MediaService } from '../../src/media/media-service.js';
import type { RenderedPrompt } from '../../src/media/prompts/prompt-renderer.js';
import { silentLogger } from '../../src/observability/logger.js';
import { CallRecording, type RecordingControl } from '../../src/recordings/capture/call-recording.js';
import { SealedFile } from '../../src/recordings/crypto/sealed-file.js';
import { convertStep } from '../../src/recordings/delivery/convert-step.js';
import { setupPipeline } from '../../src/recordings/service/recordings-setup.js';
import { RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { mediaTestConfig, tempDir } from '../media/media-test-config.js';
import { bySsrc, streamPcm } from '../support/rtp/audio-check.js';
import { RtpEndpoint } from '../support/rtp/rtp-endpoint.js';
import { mediaLines } from '../support/rtp/test-sdp.js';
import { medianToneLevel, silentSpans, splitStereo, toneLevel } from './support/audio-check.js';
import { testConfig } from './support/harness.js';
import { sleep } from '../support/harness.js';

let dir: string;
let media: MediaService;
const endpoints: RtpEndpoint[] = [];

beforeAll(async () => {
  dir = tempDir('sb-rec-e2e-');
  media = await MediaService.start({ config: mediaTestConfig(dir), logger: silentLogger() });
});
afterAll(async () => {
  for (const e of endpoints) e.close();
  await media?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A 1 s, 2500 Hz prompt file rtpengine can play (stands in for a rendered whisper). */
function tonePrompt(): RenderedPrompt {
  const path = join(dir, 'prompt-2500.wav');
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'sine=f=2500:d=1:r=8000', '-ac', '1', '-ar', '8000', '-c:a', 'pcm_s16le', '-y', path]);
  return { key: 'e2e'.padEnd(64, '0'), path, durationMs: 1000, bytes: statSync(path).size };
}

describe('a call recorded by rtpengine, converted', () => {
  it('has the caller on the left, the agent on the right, silence as long as the pause, and no prompt audio', async () => {
    const call = media.createCallMedia('rec-e2e-call@test');
    const caller = await RtpEndpoint.open();
    const agent = await RtpEndpoint.open();
    endpoints.push(caller, agent);
    const toAgent = await call.offer('caller', caller.sdp({ codecs: ['pcmu'] }));
    agent.setRemoteFromSdp(toAgent);
    const toCaller = await call.answer('agent', agent.sdp({ codecs: ['pcmu'] }));
    caller.setRemoteFromSdp(toCaller);
    // rtpengine's ports that receive each party's RTP tell the flows apart in the pcap
    const parties = { caller: { localPort: mediaLines(toCaller)[0]!.port }, agent: { localPort: mediaLines(toAgent)[0]!.port } };

    // Real phones are imperfect: the caller's phone loses a packet, sends one twice and changes SSRC once.
    // The lost packet is the 10th after the recording started, whenever that is on a busy machine.
    let dropAt = Infinity;
    const callerTone = caller.startTone({ frequency: 440, faults: { drop: (i) => i === dropAt, duplicate: (i) => i === 60, newSsrcAt: [260] } });
    const agentTone = agent.startTone({ frequency: 1000, faults: { delayMs: (i) => (i === 80 ? 45 : 0) } });
    await sleep(300);

    const config = testConfig({ stateDir: join(dir, 'pipeline'), recordings: { captureDir: media.recordingDir! } });
    const { ctx } = await setupPipeline({ config, logger: silentLogger() });
    const control: RecordingControl = { start: (_id, metadata) => call.startRecording({ metadata }), stop: () => call.stopRecording() };
    const recording = new CallRecording(
      { callId: call.callId, caller: { number: '+15550001111' }, agent: { id: 'agent-1' }, media: parties },
      { control, sink: new RecordingSubmitter(ctx.store, ctx.events, undefined, silentLogger()), retentionMs: 3_600_000, contact: { channel: 'Phone', timeZone: 'UTC' } },
    );
    // Each ng command takes effect somewhere between its call and its answer: the times around
    // each bound where its edge in the recording can be, however busy the machine.
    const at = { beforeStart: Date.now(), beforePause: 0, beforeResume: 0, beforeFinish: 0, afterFinish: 0 };
    await recording.start();
    dropAt = callerTone.sent.length + 9;
    await sleep(2000);
    at.beforePause = Date.now();
    await recording.pause();
    await sleep(1500);
    at.beforeResume = Date.now();
    await recording.resume();
    // the whisper's mechanism: a prompt played to the agent alone, while recording
    await call.play('agent', tonePrompt());
    await sleep(2000);
    at.beforeFinish = Date.now();
    const manifest = (await recording.finish())!;
    at.afterFinish = Date.now();
    callerTone.stop();
    agentTone.stop();
    await call.release();

    expect(manifest.capture.segments).toBe(2);
    expect(await convertStep(ctx, manifest.recordingId)).toBe('converted');
    // the plaintext capture is gone once the encrypted recording exists
    expect(readdirSync(join(media.recordingDir!, 'pcaps')).filter((f) => f.startsWith('rec-e2e-call'))).toEqual([]);

    const converted = (await ctx.store.readManifest(manifest.recordingId))!;
    const layout = converted.audio!.layout;
    const sealed = await SealedFile.open(ctx.store.audioPath(manifest.recordingId), ctx.keyRing);
    const chunks: Buffer[] = [];
    for await (const c of sealed.range(layout.dataOffset, layout.dataOffset + layout.dataBytes)) chunks.push(c);
    await sealed.close();
    const { left, right } = splitStereo(Buffer.concat(chunks));
    const totalMs = (left.length / 8000) * 1000;

    const pause = manifest.pauses[0]!;
    const startedAt = Date.parse(manifest.startedAt);
    const pausedAt = Date.parse(pause.pausedAt);
    const resumedAt = Date.parse(pause.resumedAt!);
    // Packets come every 20 ms: a recorded edge may fall up to two packets beyond its ng command's
    // window. A stream's place in the recording comes from its first packets' capture times, so a
    // sender running late on a busy machine (it catches up in a burst) moves it by as much: the
    // latest any packet was sent widens the window, a bound measured here, not a fixed figure.
    const lateness = (t: typeof callerTone) => Math.max(0, ...t.sent.map((p) => p.sentMs - (t.sent[0]!.sentMs + p.index * 20)));
    const late = Math.max(lateness(callerTone), lateness(agentTone));
    const edge = 40 + late;
    // A sender that stalled and caught up in a burst can leave a hole as long as its stall where the
    // converter re-anchors the stream at the burst's capture times: only silences longer than that
    // (and than 100 ms) count as gaps.
    const minGap = Math.max(100, late + 40);
    const within = (value: number, low: number, high: number): void => {
      expect(value).toBeGreaterThanOrEqual(low - edge);
      expect(value).toBeLessThanOrEqual(high + edge);
    };
    // The whole recording: from the start to the finish, pause included (as silence).
    within(totalMs, at.beforeFinish - startedAt, at.afterFinish - at.beforeStart);

    // One silence per channel, where the pause was, as long as the pause.
    for (const channel of [left, right]) {
      const gaps = silentSpans(channel, minGap);
      expect(gaps).toHaveLength(1);
      within(gaps[0]!.from, at.beforePause - startedAt, pausedAt - at.beforeStart);
      within(gaps[0]!.to - gaps[0]!.from, at.beforeResume - pausedAt, resumedAt - at.beforePause);
    }
    const gap = silentSpans(left, minGap)[0]!;
    for (const [from, to] of [
      [100, gap.from - 100],
      [gap.to + 100, totalMs - 100],
    ] as const) {
      expect(medianToneLevel(left, from, to, 440)).toBeGreaterThan(6000);
      expect(toneLevel(left, from, to, 1000)).toBeLessThan(300);
      expect(medianToneLevel(right, from, to, 1000)).toBeGreaterThan(6000);
      expect(toneLevel(right, from, to, 440)).toBeLessThan(300);
      // the prompt the agent heard is not in the recording
      expect(toneLevel(left, from, to, 2500)).toBeLessThan(300);
      expect(toneLevel(right, from, to, 2500)).toBeLessThan(300);
    }
    // ... although the agent did hear it (a stream of its own, as rtpengine plays prompts)
    const promptLevels = [...bySsrc(agent.received).values()].map((packets) => goertzel(streamPcm(packets), 2500));
    expect(Math.max(...promptLevels)).toBeGreaterThan(1000); // lavfi sine: amplitude 1/8 of full scale
    // The caller's lost packet is a 20 ms silence in the left channel, in its place (the 10th packet
    // due after the start was confirmed: in the recording, no later than the confirmation plus 10
    // packets); nothing else is missing. (At the very end one party's last packet may miss the stop:
    // a final packet's worth.)
    // Any other short silence must be explained by a sender running late (as measured), none otherwise.
    const short = (ch: Int16Array) => silentSpans(ch, 15).filter((s) => s.to - s.from < minGap && s.to < totalMs - 21);
    const shortLeft = short(left);
    const lost = shortLeft.findIndex((s) => s.to - s.from === 20 && s.from >= -edge && s.from <= startedAt - at.beforeStart + 10 * 20 + edge);
    expect(lost, `the lost packet's silence among ${JSON.stringify(shortLeft)}`).toBeGreaterThanOrEqual(0);
    const explained = (s: { from: number; to: number }) => late >= 15 && s.to - s.from <= late + 20;
    expect([...shortLeft.filter((_, i) => i !== lost), ...short(right)].filter((s) => !explained(s)), `senders at most ${late} ms late`).toEqual([]);
  }, 60_000);
});
