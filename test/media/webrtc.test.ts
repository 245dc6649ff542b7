/**
 * Browser legs through a real rtpengine, with a real browser (Chromium):
 * WebRTC on the browser's side (ICE, DTLS-SRTP, RTCP-mux), plain RTP on the
 * other. A supervisor's browser calling in to a monitor (its offer, our
 * answer) and being called (our offer, its answer) hears caller and agent
 * mixed; a browser offering only Opus hears them transcoded; and a browser as
 * a party of the call talks with a plain RTP phone in both directions of offer.
 * Every tone is measured where it arrives: in the page by a WebAudio
 * analyser, at the phone by decoding its RTP.
 */
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallMedia } from '../../src/media/call-media.js';
import { MediaService } from '../../src/media/media-service.js';
import { isWebRtcSdp } from '../../src/media/webrtc.js';
import { silentLogger } from '../../src/observability/logger.js';
import { addPeerHelpers, startBrowser, type PeerStats, type PeerWindow, type TestBrowser, type ToneLevels } from '../support/browser.js';
import { eventually } from '../support/harness.js';
import { median, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { RtpEndpoint } from '../support/rtp/rtp-endpoint.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';

const CALLER_HZ = 700;
const AGENT_HZ = 1300;
const BROWSER_HZ = 500;

let dir: string;
let media: MediaService;
let browser: TestBrowser;
let page: Page;
let call: CallMedia;
const endpoints: RtpEndpoint[] = [];

async function endpoint(): Promise<RtpEndpoint> {
  const e = await RtpEndpoint.open();
  endpoints.push(e);
  return e;
}

beforeAll(async () => {
  dir = tempDir('sb-webrtc-');
  media = await MediaService.start({ config: mediaTestConfig(dir, { media: { monitor: { jitterMs: 100 } } }), logger: silentLogger() });
  browser = await startBrowser({ autoplay: true });
  page = await browser.newPage();
  await page.goto('about:blank');
  await addPeerHelpers(page);
  // A monitored call between two plain phones: the caller sends 700 Hz, the agent 1300 Hz.
  call = media.createCallMedia('webrtc-monitored');
  const caller = await endpoint();
  const agent = await endpoint();
  agent.setRemoteFromSdp(await call.offer('caller', caller.sdp()));
  caller.setRemoteFromSdp(await call.answer('agent', agent.sdp()));
  caller.startTone({ frequency: CALLER_HZ, amplitude: 6000 });
  agent.startTone({ frequency: AGENT_HZ, amplitude: 6000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const e of endpoints) e.close();
  await media?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const offerFromPage = (options: { toneHz?: number } = {}): Promise<{ id: number; sdp: string }> => page.evaluate((o) => (globalThis as unknown as PeerWindow).sbPeer.offer(o), options);
const answerFromPage = (sdp: string, options: { toneHz?: number } = {}): Promise<{ id: number; sdp: string }> => page.evaluate(([s, o]) => (globalThis as unknown as PeerWindow).sbPeer.answer(s, o), [sdp, options] as const);
const acceptInPage = (id: number, sdp: string): Promise<void> => page.evaluate(([i, s]) => (globalThis as unknown as PeerWindow).sbPeer.accept(i, s), [id, sdp] as const);
const statsOf = (id: number): Promise<PeerStats> => page.evaluate((i) => (globalThis as unknown as PeerWindow).sbPeer.stats(i), id);
const levelsOf = (id: number, frequencies: number[]): Promise<ToneLevels> => page.evaluate(([i, f]) => (globalThis as unknown as PeerWindow).sbPeer.peerLevels(i, f, 20, 50), [id, frequencies] as const);


/** Waits until the page's peer `id` is connected and has received `n` packets. */
async function flowing(id: number, n = 50): Promise<PeerStats> {
  let s: PeerStats | undefined;
  await eventually(async () => ((s = await statsOf(id)).inbound?.packetsReceived ?? 0) >= n, 20_000, () => `browser peer ${id} receiving: ${JSON.stringify(s)}`, 200);
  return s!;
}

/** The tone is heard: its peak stands well above the telephone band's floor (measured: 70 to 100 dB above). */
function expectHeard(levels: ToneLevels, hz: number): void {
  expect(levels.peaks[hz]! - levels.floor, `${hz} Hz in ${JSON.stringify(levels)}`).toBeGreaterThan(40);
}

/** A frequency nobody sends is far below the ones that are sent (measured: 70 dB or more). */
function expectSilentAt(levels: ToneLevels, hz: number, heardHz: number): void {
  expect(levels.peaks[heardHz]! - levels.peaks[hz]!, `${hz} Hz in ${JSON.stringify(levels)}`).toBeGreaterThan(40);
}

function expectWebRtcSide(sdp: string): void {
  expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
  expect(sdp).toMatch(/^a=fingerprint:sha-256 /m);
  expect(sdp).toMatch(/^a=ice-ufrag:/m);
  expect(sdp).toMatch(/^a=candidate:.* typ host/m);
  expect(sdp).toMatch(/^a=rtcp-mux/m);
  expect(sdp).not.toMatch(/^a=crypto:/m);
}

function expectPlainSide(sdp: string): void {
  expect(isWebRtcSdp(sdp)).toBe(false);
  expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP /m);
  expect(sdp).not.toMatch(/^a=(fingerprint|ice-ufrag|candidate|setup):/m);
  expect(sdp).toMatch(/^a=rtpmap:0 PCMU\/8000/m);
}

describe('browser (WebRTC) legs through rtpengine', () => {
  it('a browser that calls in to a monitor (its offer) hears caller and agent mixed, over ICE and DTLS-SRTP', async () => {
    const offer = await offerFromPage();
    expect(isWebRtcSdp(offer.sdp)).toBe(true);
    const session = await call.monitor({ label: 'browser-in', deviceOffer: offer.sdp });
    expect(session.offerSdp).toBeUndefined();
    expectWebRtcSide(session.answerSdp!);
    expect(session.answerSdp).toMatch(/^a=sendonly/m);
    await acceptInPage(offer.id, session.answerSdp!);
    const stats = await flowing(offer.id);
    expect(stats.transport).toMatchObject({ dtlsState: 'connected', iceState: 'connected' });
    expect(stats.transport!.srtpCipher).toMatch(/AES|AEAD/);
    const levels = await levelsOf(offer.id, [CALLER_HZ, AGENT_HZ, 1000]);
    expectHeard(levels, CALLER_HZ);
    expectHeard(levels, AGENT_HZ);
    expectSilentAt(levels, 1000, CALLER_HZ);
    await session.close();
    await eventually(async () => !(await call.instance.client.request('list', {})).calls.includes('webrtc-monitored~browser-in'), 5000, 'relay leg deleted');
    await page.evaluate((i) => (globalThis as unknown as PeerWindow).sbPeer.close(i), offer.id);
  });

  it('a browser offering only Opus hears the mix transcoded by rtpengine (G.711 on our side)', async () => {
    const offer = await offerFromPage();
    // Keep only Opus (the browser still decodes what it negotiated).
    const opusPt = /^a=rtpmap:(\d+) opus\/48000/m.exec(offer.sdp)![1]!;
    const opusOnly = offer.sdp
      .split('\r\n')
      .filter((l) => !/^a=(rtpmap|fmtp|rtcp-fb):(\d+) /.test(l) || l.startsWith(`a=rtpmap:${opusPt} `) || l.startsWith(`a=fmtp:${opusPt} `) || l.startsWith(`a=rtcp-fb:${opusPt} `))
      .map((l) => (l.startsWith('m=audio ') ? l.replace(/SAVPF .*$/, `SAVPF ${opusPt}`) : l))
      .join('\r\n');
    const session = await call.monitor({ label: 'browser-opus', deviceOffer: opusOnly });
    expect(session.answerSdp).toMatch(new RegExp(`^m=audio \\d+ UDP/TLS/RTP/SAVPF ${opusPt}\\r?$`, 'm'));
    await acceptInPage(offer.id, session.answerSdp!);
    const stats = await flowing(offer.id);
    expect(stats.codec).toBe('audio/opus');
    const levels = await levelsOf(offer.id, [CALLER_HZ, AGENT_HZ]);
    expectHeard(levels, CALLER_HZ);
    expectHeard(levels, AGENT_HZ);
    await session.close();
    await page.evaluate((i) => (globalThis as unknown as PeerWindow).sbPeer.close(i), offer.id);
  });

  it('a monitor leg offered to a browser carries ICE and DTLS-SRTP; the browser answers and hears the mix', async () => {
    const session = await call.monitor({ label: 'browser-out', peer: 'webrtc' });
    expectWebRtcSide(session.offerSdp!);
    expect(session.offerSdp).toMatch(/^a=setup:actpass/m);
    const answer = await answerFromPage(session.offerSdp!);
    await session.accept(answer.sdp);
    await flowing(answer.id);
    const levels = await levelsOf(answer.id, [CALLER_HZ, AGENT_HZ]);
    expectHeard(levels, CALLER_HZ);
    expectHeard(levels, AGENT_HZ);
    await session.close();
    await page.evaluate((i) => (globalThis as unknown as PeerWindow).sbPeer.close(i), answer.id);
  });

  it('a browser caller and a plain agent talk: the agent gets plain RTP/AVP with G.711, the browser WebRTC', async () => {
    const talk = media.createCallMedia('webrtc-caller');
    try {
      const agent = await endpoint();
      const offer = await offerFromPage({ toneHz: BROWSER_HZ });
      const forAgent = await talk.offer('caller', offer.sdp);
      expectPlainSide(forAgent);
      agent.setRemoteFromSdp(forAgent);
      const forBrowser = await talk.answer('agent', agent.sdp());
      expectWebRtcSide(forBrowser);
      await acceptInPage(offer.id, forBrowser);
      agent.startTone({ frequency: AGENT_HZ, amplitude: 6000 });
      await flowing(offer.id);
      expectHeard(await levelsOf(offer.id, [AGENT_HZ]), AGENT_HZ);
      await eventually(() => agent.received.length > 100, 10_000, 'the browser caller heard at the agent');
      const pcm = streamPcm(agent.received.slice(-75));
      expect(median(toneLevels(pcm, BROWSER_HZ, 320))).toBeGreaterThan(1000);
      await page.evaluate((i) => (globalThis as unknown as PeerWindow).sbPeer.close(i), offer.id);
    } finally {
      await talk.release();
    }
  });

  it('a plain caller and a browser agent talk: the offer to the browser is WebRTC, the answer to the caller plain', async () => {
    const talk = media.createCallMedia('webrtc-agent');
    try {
      const caller = await endpoint();
      const forBrowser = await talk.offer('caller', caller.sdp(), { peer: 'webrtc' });
      expectWebRtcSide(forBrowser);
      const answer = await answerFromPage(forBrowser, { toneHz: BROWSER_HZ });
      const forCaller = await talk.answer('agent', answer.sdp);
      expectPlainSide(forCaller);
      caller.setRemoteFromSdp(forCaller);
      caller.startTone({ frequency: CALLER_HZ, amplitude: 6000 });
      await flowing(answer.id);
      expectHeard(await levelsOf(answer.id, [CALLER_HZ]), CALLER_HZ);
      await eventually(() => caller.received.length > 100, 10_000, 'the browser agent heard at the caller');
      const pcm = streamPcm(caller.received.slice(-75));
      expect(median(toneLevels(pcm, BROWSER_HZ, 320))).toBeGreaterThan(1000);
      await page.evaluate((i) => (globalThis as unknown as PeerWindow).sbPeer.close(i), answer.id);
    } finally {
      await talk.release();
    }
  });
});
