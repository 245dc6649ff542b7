/**
 * The whisper on a real rtpengine with real RTP, checked by what the parties
 * actually receive: the caller sends 440 Hz, the agent 1000 Hz. Until the
 * bridge the agent hears the rendered whisper and countdown and none of the
 * caller, the caller hears ringback and never the whisper; after the bridge
 * both hear each other. Also: cancellation at any point releases everything.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MediaCancelledError } from '../../src/media/media-errors.js';
import { MediaService } from '../../src/media/media-service.js';
import type { CallMedia } from '../../src/media/call-media.js';
import type { RenderedPrompt } from '../../src/media/prompts/prompt-renderer.js';
import { silentLogger } from '../../src/observability/logger.js';
import { bestCorrelation, bySsrc, median, readAudio, streamPcm, toneDominatedWindows, toneLevels } from '../support/rtp/audio-check.js';
import { RtpEndpoint, waitFor, type ToneStream } from '../support/rtp/rtp-endpoint.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';
import { sleep } from '../support/harness.js';

let dir: string;
let media: MediaService;
let whisperPrompt: RenderedPrompt;
let ringback: RenderedPrompt;
const endpoints: RtpEndpoint[] = [];

beforeAll(async () => {
  dir = tempDir('sb-whisper-');
  media = await MediaService.start({ config: mediaTestConfig(dir), logger: silentLogger() });
  whisperPrompt = (await media.prompts.whisperFor('sales', 'inbound'))!;
  ringback = (await media.prompts.callerHold())!;
});
afterEach(() => {
  for (const e of endpoints.splice(0)) e.close();
});
afterAll(async () => {
  await media?.close();
  rmSync(dir, { recursive: true, force: true });
});


interface Call {
  readonly call: CallMedia;
  readonly caller: RtpEndpoint;
  readonly agent: RtpEndpoint;
  readonly callerTone: ToneStream;
  readonly agentTone: ToneStream;
}

/** Caller offers, the call is blocked at once (the recommended flow), agent answers; both start sending. */
async function connect(callId: string): Promise<Call> {
  const call = media.createCallMedia(callId);
  const caller = await RtpEndpoint.open();
  const agent = await RtpEndpoint.open();
  endpoints.push(caller, agent);
  agent.setRemoteFromSdp(await call.offer('caller', caller.sdp({ codecs: ['pcmu'] })));
  await call.blockAll();
  caller.setRemoteFromSdp(await call.answer('agent', agent.sdp({ codecs: ['pcmu'] })));
  const callerTone = caller.startTone({ frequency: 440 });
  const agentTone = agent.startTone({ frequency: 1000 });
  return { call, caller, agent, callerTone, agentTone };
}

/** SSRC streams received by `ep` in [from, to), decoded. */
function streams(ep: RtpEndpoint, from: number, to: number): Map<number, Int16Array> {
  const out = new Map<number, Int16Array>();
  for (const [ssrc, packets] of bySsrc(ep.receivedBetween(from, to))) out.set(ssrc, streamPcm(packets));
  return out;
}

describe('whisper (block the call, play to the agent, ringback to the caller, unblock after the duration)', () => {
  it('the agent hears whisper + countdown and no caller audio until the bridge; the caller hears ringback, never the whisper; then both hear each other', async () => {
    const { call, caller, agent, callerTone, agentTone } = await connect('whisper-ok');
    const start = performance.now();
    const result = await call.whisper({ prompt: whisperPrompt, callerHold: ringback });
    const bridge = performance.now();
    await sleep(1200);
    // Packets racing the unblock reply may arrive a few ms before we saw the promise resolve.
    const beforeBridge = bridge - 25;
    const reference = readAudio(whisperPrompt.path).samples;

    // The agent, before the bridge: only the prompt's stream, which is the rendered whisper + countdown.
    const agentBefore = streams(agent, 0, beforeBridge);
    expect([...agentBefore.keys()]).not.toContain(callerTone.ssrcs[0]);
    for (const pcm of agentBefore.values()) expect(toneDominatedWindows(pcm, 440, 2000)).toBe(0);
    expect(agentBefore.size).toBe(1);
    // The prompt's whole stream (its tail may still be in flight at the bridge on a busy machine).
    const promptSsrc = [...agentBefore.keys()][0]!;
    const played = streamPcm(agent.received.filter((p) => p.ssrc === promptSsrc));
    expect(played.length).toBeGreaterThan(0.97 * reference.length);
    expect(bestCorrelation(played, reference.subarray(0, Math.min(reference.length, played.length - 1600)), 1600).correlation).toBeGreaterThan(0.95);

    // The caller, before the bridge: ringback (440 + 480 Hz), no agent audio, and nothing like the whisper.
    const callerBefore = streams(caller, 0, beforeBridge);
    expect([...callerBefore.keys()]).not.toContain(agentTone.ssrcs[0]);
    const ring = [...callerBefore.values()].map((pcm) => Math.max(...toneLevels(pcm, 480)));
    expect(Math.max(...ring)).toBeGreaterThan(2000);
    for (const pcm of callerBefore.values()) expect(toneDominatedWindows(pcm, 1000, 2000)).toBe(0);
    const chunk = reference.subarray(2000, 6000);
    for (const pcm of streams(caller, 0, Infinity).values()) {
      if (pcm.length > chunk.length) expect(bestCorrelation(pcm, chunk, pcm.length - chunk.length).correlation).toBeLessThan(0.3);
    }

    // After the bridge: each hears the other, and only the other.
    const agentAfter = streams(agent, bridge + 300, Infinity);
    const callerAfter = streams(caller, bridge + 300, Infinity);
    expect([...agentAfter.keys()]).toEqual(callerTone.ssrcs);
    expect([...callerAfter.keys()]).toEqual(agentTone.ssrcs);
    expect(median(toneLevels(agentAfter.get(callerTone.ssrcs[0]!)!, 440))).toBeGreaterThan(7000);
    expect(median(toneLevels(callerAfter.get(agentTone.ssrcs[0]!)!, 1000))).toBeGreaterThan(7000);

    // The reported duration (wait time) covers the prompt rtpengine reported.
    expect(Math.abs(result.promptMs - whisperPrompt.durationMs)).toBeLessThanOrEqual(20);
    expect(result.durationMs).toBeGreaterThanOrEqual(result.promptMs);
    expect(result.durationMs).toBeLessThanOrEqual(bridge - start + 1);
    await call.release();
  });

  it('cancelled mid-whisper (a hang-up): it rejects with MEDIA_CANCELLED, the prompt and ringback stop, the blocks are lifted', async () => {
    const { call, caller, agent, callerTone, agentTone } = await connect('whisper-abort');
    const abort = new AbortController();
    const whisper = call.whisper({ prompt: whisperPrompt, callerHold: ringback, signal: abort.signal });
    await sleep(1000);
    abort.abort();
    const err = await whisper.catch((e: unknown) => e);
    const cancelled = performance.now();
    expect(err).toBeInstanceOf(MediaCancelledError);
    expect((err as MediaCancelledError).code).toBe(ErrorCodes.MEDIA_CANCELLED);
    expect((err as MediaCancelledError).elapsedMs).toBeGreaterThanOrEqual(900);
    expect((err as MediaCancelledError).elapsedMs).toBeLessThan(whisperPrompt.durationMs);
    await sleep(800);
    const agentAfter = streams(agent, cancelled + 100, Infinity);
    const callerAfter = streams(caller, cancelled + 100, Infinity);
    // Only the other party's stream remains: no prompt, no ringback.
    expect([...agentAfter.keys()]).toEqual(callerTone.ssrcs);
    expect([...callerAfter.keys()]).toEqual(agentTone.ssrcs);
    await call.release();
  });

  it('releasing the call mid-whisper cancels it and deletes the call at rtpengine: no media flows any more', async () => {
    const { call, caller, agent } = await connect('whisper-release');
    const whisper = call.whisper({ prompt: whisperPrompt, callerHold: ringback }).catch((e: unknown) => e);
    await sleep(700);
    await call.release();
    const released = performance.now();
    expect(await whisper).toBeInstanceOf(MediaCancelledError);
    expect(call.released).toBe(true);
    expect((await call.instance.client.request('list', {})).calls).not.toContain('whisper-release');
    await sleep(500);
    expect(agent.receivedBetween(released + 100)).toHaveLength(0);
    expect(caller.receivedBetween(released + 100)).toHaveLength(0);
    expect(media.getCallMedia('whisper-release')).toBeUndefined();
    // Release is idempotent and whatever comes after is refused clearly.
    await call.release();
    await expect(call.block('caller')).rejects.toMatchObject({ code: ErrorCodes.MEDIA_STATE });
  });

  it('an already aborted signal starts nothing', async () => {
    const { call, agent } = await connect('whisper-pre-aborted');
    const before = agent.received.length;
    await expect(call.whisper({ prompt: whisperPrompt, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(MediaCancelledError);
    expect(await waitFor(() => agent.received.length > before, 500)).toBe(false); // call still blocked, nothing played
    await call.release();
  });
});
