/**
 * A call's media on a real rtpengine: the after-hours message to a caller that
 * has only offered (message, then hang-up), labels and state errors, pcap
 * recording through CallMedia, and one idempotent release.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { ErrorCodes } from '../../src/errors.js';
import { CallMedia } from '../../src/media/call-media.js';
import { MediaCancelledError, RtpengineError } from '../../src/media/media-errors.js';
import { NgClient } from '../../src/media/ng/ng-client.js';
import { MediaService } from '../../src/media/media-service.js';
import type { RenderedPrompt } from '../../src/media/prompts/prompt-renderer.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { convertPcapsToPcm } from '../../src/recordings/convert/pcap-to-pcm.js';
import { splitStereo } from '../recordings/support/audio-check.js';
import { bestCorrelation, bySsrc, median, readAudio, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { RtpEndpoint, waitFor } from '../support/rtp/rtp-endpoint.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';
import { eventually, sleep } from '../support/harness.js';

const CLOSED = 'We are closed right now. Please call again tomorrow.';

let dir: string;
let media: MediaService;
let message: RenderedPrompt;
const endpoints: RtpEndpoint[] = [];

beforeAll(async () => {
  dir = tempDir('sb-callmedia-');
  media = await MediaService.start({
    config: mediaTestConfig(dir, { deflection: { messages: { afterHours: { en: { text: CLOSED } } } } }),
    logger: silentLogger(),
  });
  message = await media.prompts.configuredPrompt('deflection.messages.afterHours.en');
});
afterEach(() => {
  for (const e of endpoints.splice(0)) e.close();
});
afterAll(async () => {
  await media?.close();
  rmSync(dir, { recursive: true, force: true });
});


async function endpoint(): Promise<RtpEndpoint> {
  const e = await RtpEndpoint.open();
  endpoints.push(e);
  return e;
}

/** What `ep` received of the message: its one stream, decoded, and when the last packet came. */
function receivedMessage(ep: RtpEndpoint) {
  const streams = [...bySsrc(ep.received)];
  expect(streams).toHaveLength(1);
  const packets = streams[0]![1];
  return { pcm: streamPcm(packets), lastArrival: Math.max(...packets.map((p) => p.arrivalMs)), packets };
}

describe('after-hours message (message, then hang-up)', () => {
  it('a caller that has only sent an offer hears the whole message; playToEnd resolves when it has been played; release stops everything', async () => {
    const call = media.createCallMedia('after-hours-offer-only');
    const caller = await endpoint();
    await call.offer('caller', caller.sdp({ codecs: ['pcmu'] }));
    const started = performance.now();
    const { durationMs } = await call.playToEnd('caller', message);
    const ended = performance.now();
    expect(Math.abs(durationMs - message.durationMs)).toBeLessThanOrEqual(2);
    // Hang-up right after the message, as the engine does.
    await call.release();
    // What rtpengine sent before it answered the delete is read within the next turns of the event loop.
    await sleep(100);
    const afterRelease = caller.received.length;
    const { pcm } = receivedMessage(caller);
    const reference = readAudio(message.path).samples;
    // The whole message arrived (give or take one packet in flight) ...
    expect(caller.received.length * 160).toBeGreaterThanOrEqual(reference.length - 160);
    // ... and it is the message: same waveform.
    expect(bestCorrelation(pcm, reference.subarray(0, reference.length - 800), 800).correlation).toBeGreaterThan(0.95);
    // playToEnd did not return before the message could have been played. (How soon after it returns
    // depends on the machine's speed: not asserted here.)
    expect(ended - started).toBeGreaterThanOrEqual(message.durationMs - 5);
    // Nothing more once released.
    await sleep(300);
    expect(caller.received.length).toBe(afterRelease);
    expect((await call.instance.client.request('list', {})).calls).not.toContain('after-hours-offer-only');
  });

  it('with a local answer (the SDP the caller is answered with), the caller sends into the call and still hears only the message', async () => {
    const call = media.createCallMedia('after-hours-answered');
    const caller = await endpoint();
    await call.offer('caller', caller.sdp({ codecs: ['pcmu'] }));
    const toCaller = await call.answerLocal();
    expect(toCaller).toMatch(/m=audio \d+ RTP\/AVP 0/);
    caller.setRemoteFromSdp(toCaller);
    caller.startTone({ frequency: 440 });
    const { pcm } = await call.playToEnd('caller', message).then(() => receivedMessage(caller));
    expect(median(toneLevels(pcm, 440))).toBeLessThan(1000);
    expect(pcm.length).toBeGreaterThanOrEqual(0.97 * readAudio(message.path).samples.length);
    await call.release();
  });

  it('a hang-up during the message (abort) stops it at once with MEDIA_CANCELLED', async () => {
    const call = media.createCallMedia('after-hours-hangup');
    const caller = await endpoint();
    await call.offer('caller', caller.sdp({ codecs: ['pcmu'] }));
    const abort = new AbortController();
    const playing = call.playToEnd('caller', message, { signal: abort.signal });
    await sleep(800);
    abort.abort();
    const err = await playing.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaCancelledError);
    await sleep(100); // what rtpengine sent before it answered the stop is read by then
    const afterStop = caller.received.length;
    await sleep(300);
    expect(caller.received.length).toBe(afterStop);
    // The message was cut short (rtpengine sends a prompt's first packets ahead, so no finer bound).
    expect(afterStop).toBeLessThan(message.durationMs / 20 - 10);
    await call.release();
  });
});

describe('CallMedia basics', () => {
  it('relays a call set up by label (caller offers, agent answers) in both directions', async () => {
    const call = media.createCallMedia('basic-relay');
    const caller = await endpoint();
    const agent = await endpoint();
    agent.setRemoteFromSdp(await call.offer('caller', caller.sdp({ codecs: ['pcma'] })));
    caller.setRemoteFromSdp(await call.answer('agent', agent.sdp({ codecs: ['pcma'] })));
    caller.startTone({ frequency: 440, codec: 'pcma' });
    agent.startTone({ frequency: 1000, codec: 'pcma' });
    expect(await waitFor(() => caller.received.length > 30 && agent.received.length > 30, 10_000)).toBe(true);
    expect(median(toneLevels(streamPcm(agent.received), 440))).toBeGreaterThan(7000);
    expect(median(toneLevels(streamPcm(caller.received), 1000))).toBeGreaterThan(7000);
    expect(call.labels).toEqual(['caller', 'agent']);
    const q = await call.query();
    expect(Object.keys(q.tags as object).sort()).toEqual(['agent', 'caller']);
    await call.release();
  });

  it('a new agent answering while the previous agent\'s phone still sends to the same port gets the caller: rtpengine learns the address the SDP names', async () => {
    const call = media.createCallMedia('basic-new-agent');
    const caller = await endpoint();
    const ann = await endpoint();
    const bob = await endpoint();
    const toAgent = await call.offer('caller', caller.sdp());
    caller.setRemoteFromSdp(await call.answer('agent', ann.sdp(), { to: 'caller' }));
    caller.startTone({ frequency: 700 });
    ann.setRemoteFromSdp(toAgent);
    // Ann hung up (during the whisper) but her phone goes on sending, faster than Bob's: with
    // rtpengine's default learning (the first source seen after 3 s) the call would latch onto her.
    ann.startTone({ frequency: 1300, ptimeMs: 5, faults: { duplicate: () => true } });
    expect(await waitFor(() => ann.received.length > 10, 10_000)).toBe(true);
    await call.answer('agent', bob.sdp(), { to: 'caller' });
    bob.setRemoteFromSdp(toAgent);
    bob.startTone({ frequency: 1300 });
    type Stream = { endpoint: { port: number }; flags: string[]; 'local port': number };
    const agentRtp = async (): Promise<Stream> => {
      const tags = (await call.query()).tags as Record<string, { medias: { streams: Stream[] }[] }>;
      return tags.agent!.medias[0]!.streams[0]!;
    };
    // rtpengine commits to an address after its learning window; query says which.
    let stream = await agentRtp();
    await eventually(async () => (stream = await agentRtp()).flags.includes('confirmed'), 15_000, () => `the agent's endpoint confirmed: ${JSON.stringify(stream)}`, 100);
    expect(stream.flags).toContain('confirmed');
    expect(stream.endpoint.port).toBe(bob.port);
    const bobBefore = bob.received.length;
    expect(await waitFor(() => bob.received.length > bobBefore + 25, 10_000)).toBe(true);
    expect(median(toneLevels(streamPcm(bob.received.slice(bobBefore)), 700))).toBeGreaterThan(7000);
    // Ann gets nothing more from the call (anything sent to her before the commit has long been read by
    // now; only packets from rtpengine's port count, her ephemeral port may have had an earlier owner).
    const fromCall = (): number => ann.received.filter((p) => p.from.port === stream['local port']).length;
    const annAfter = fromCall();
    const bobAfter = bob.received.length;
    expect(await waitFor(() => bob.received.length > bobAfter + 25, 10_000)).toBe(true);
    expect(fromCall()).toBe(annAfter);
    await call.release();
  });

  it('records the call to a pcap in the recording directory the recordings pipeline reads', async () => {
    const call = media.createCallMedia('basic-record');
    const caller = await endpoint();
    const agent = await endpoint();
    agent.setRemoteFromSdp(await call.offer('caller', caller.sdp({ codecs: ['pcmu'] })));
    caller.setRemoteFromSdp(await call.answer('agent', agent.sdp({ codecs: ['pcmu'] })));
    caller.startTone({ frequency: 440 });
    await call.startRecording({ metadata: 'queue=sales' });
    await sleep(400);
    await call.stopRecording();
    const pcaps = join(media.recordingDir!, 'pcaps');
    expect(media.recordingDir).toBe(join(dir, 'rtpengine', 'recordings'));
    expect(await waitFor(() => existsSync(pcaps) && readdirSync(pcaps).some((f) => f.startsWith('basic-record')), 10_000)).toBe(true);
    await call.release();
  });

  it('an SRTP (SDES) caller: answered with a key of rtpengine\'s, the agent hears its real SRTP decrypted, and the recording holds it decrypted', async () => {
    const call = media.createCallMedia('srtp-record');
    const agent = await endpoint();
    const key = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
    const offer = ['v=0', 'o=c 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 47000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`, ''].join('\r\n');
    const toAgent = await call.offer('caller', offer);
    expect(toAgent).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
    agent.setRemoteFromSdp(toAgent);
    const toCaller = await call.answer('agent', agent.sdp({ codecs: ['pcmu'] }));
    expect(toCaller).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/m);
    const port = Number(/^m=audio (\d+) RTP\/SAVP /m.exec(toCaller)![1]);
    await call.startRecording();
    // ffmpeg plays the caller, encrypting with the key the caller offered (RFC 4568: each side sends with its own).
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=880:duration=2:sample_rate=8000', '-ac', '1', '-c:a', 'pcm_mulaw', '-payload_type', '0', '-f', 'rtp', '-srtp_out_suite', 'AES_CM_128_HMAC_SHA1_80', '-srtp_out_params', key, `srtp://127.0.0.1:${port}`], { stdio: 'ignore' });
    await new Promise((resolve) => ffmpeg.on('exit', resolve));
    await eventually(() => goertzel(streamPcm(agent.received), 880) > 1000, 10_000, 'the agent hears the tone');
    await call.stopRecording();
    const pcaps = join(media.recordingDir!, 'pcaps');
    await eventually(() => existsSync(pcaps) && readdirSync(pcaps).some((f) => f.startsWith('srtp-record')), 10_000, 'the pcap');
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
    const segments = readdirSync(pcaps).filter((f) => f.startsWith('srtp-record')).map((f) => join(pcaps, f));
    const report = await convertPcapsToPcm({ segments, parties: { caller: { localPort: port } }, layout: 'stereo' }, sink);
    expect(report.parties.caller.packets).toBeGreaterThan(0);
    const { left } = splitStereo(Buffer.concat(chunks));
    expect(goertzel(left, 880)).toBeGreaterThan(1000);
    await call.release();
  });

  it('refuses bad labels, unknown parties and answers without an offer, with MEDIA_STATE', async () => {
    const call = media.createCallMedia('basic-errors');
    await expect(call.offer('Caller 1', 'v=0')).rejects.toMatchObject({ code: ErrorCodes.MEDIA_STATE });
    await expect(call.answer('agent', 'v=0')).rejects.toThrow(/cannot answer before anyone offered/);
    await expect(call.play('agent', message)).rejects.toThrow(/has no party "agent"/);
    expect(() => media.createCallMedia('basic-errors')).toThrow(/already has media/);
    await call.release();
  });

  it('an SDP rtpengine cannot use is rtpengine\'s typed error, with its reason', async () => {
    const call = media.createCallMedia('basic-bad-sdp');
    const err = await call.offer('caller', 'this is not sdp').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtpengineError);
    expect((err as RtpengineError).reason.length).toBeGreaterThan(0);
    await call.release();
  });

  it('release is idempotent, deletes at rtpengine once, and a failing delete is logged, not thrown', async () => {
    const call = media.createCallMedia('basic-release');
    const caller = await endpoint();
    await call.offer('caller', caller.sdp());
    const first = call.release();
    expect(call.release()).toBe(first);
    await first;
    expect(media.getCallMedia('basic-release')).toBeUndefined();
    expect((await call.instance.client.request('list', {})).calls).not.toContain('basic-release');
  });

  it('a release while an offer is on its way (a CANCEL right after the INVITE) leaves nothing at rtpengine', async () => {
    const real = media.createCallMedia('probe-real').instance;
    await media.getCallMedia('probe-real')!.release();
    // The offer is held until the delete has gone (or 300 ms passed): rtpengine would create the call after its delete.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
      setTimeout(resolve, 300);
    });
    const client = Object.assign(Object.create(real.client) as NgClient, {
      request: async (command: string, params: Record<string, unknown>) => {
        if (command === 'offer') await gate;
        const reply = await real.client.request(command as 'offer', params as never);
        if (command === 'delete') openGate();
        return reply;
      },
    });
    const call = new CallMedia({ callId: 'cancelled-early', instance: { ...real, client }, monitor: { bindAddress: '127.0.0.1', jitterMs: 60, minJitterMs: 10 }, logger: silentLogger() });
    const caller = await endpoint();
    const offered = call.offer('caller', caller.sdp()).then(
      () => 'answered',
      (e: unknown) => e,
    );
    await call.release();
    expect(await offered).toMatchObject({ code: ErrorCodes.MEDIA_STATE });
    expect((await real.client.request('list', {})).calls).not.toContain('cancelled-early');
  });

  it('when rtpengine does not answer the delete, release still completes and logs why', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    const silent = createSocket('udp4'); // bound, never answers
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    const client = new NgClient({ host: '127.0.0.1', port: silent.address().port, timeoutMs: 300, retransmitMs: 100, logger });
    const call = new CallMedia({
      callId: 'orphan',
      instance: { id: 'gone', client, promptDelivery: 'file', promptPath: (p) => p, healthy: true },
      monitor: { bindAddress: '127.0.0.1', jitterMs: 60, minJitterMs: 10 },
      logger,
    });
    await expect(call.release()).resolves.toBeUndefined();
    client.close();
    silent.close();
    const entries = lines.map((l) => JSON.parse(l) as { msg: string; err?: string });
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'rtpengine delete failed (released locally anyway)', err: expect.stringContaining('did not answer "delete"') }));
  });
});
