/**
 * Prompt pacing benchmark (not part of the test run): how evenly rtpengine's
 * player sends a prompt, in the playback format (µ-law AU) and, as the
 * baseline in the same run, the same audio as µ-law WAV (the format before
 * 2026-12-07). A 5 s tone is played with `play media` to a call's agent leg
 * through the embedded rtpengine, several times each; the gaps between the
 * packets the leg receives are counted. Ideal: every gap 20 ms (one 20 ms
 * packet each). WAV arrived in bursts (10 ms gaps) with ~260 ms holes.
 *
 * Run: npx tsx bench/media/prompt-pacing.ts [--runs 3] [--seconds 5]
 * Writes bench/results/media-prompt-pacing.json and .svg.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sineTone } from '../../src/audio/analysis.js';
import { encodeMulawAu } from '../../src/media/prompts/au.js';
import { runFfmpeg } from '../../src/audio/ffmpeg.js';
import { RtpEndpoint } from '../../test/support/rtp/rtp-endpoint.js';
import { startTestRtpengine } from '../../test/support/rtp/rtpengine-harness.js';
import { writeBarChart } from '../lib/chart.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);

const rig = await startTestRtpengine();
const client = rig.rtpengine.client;
const au = join(rig.dir, 'tone.au');
writeFileSync(au, encodeMulawAu(sineTone(700, 8000 * seconds, 8000, 12000)));
const wav = join(rig.dir, 'tone.wav');
await runFfmpeg({ args: ['-y', '-i', au, '-c:a', 'pcm_mulaw', wav], timeoutMs: 30_000 });

interface Pacing {
  packets: number;
  gaps: number;
  /** Share of gaps within 15–25 ms (one packet every 20 ms). */
  evenShare: number;
  /** Share of gaps under 15 ms (packets sent ahead of time). */
  earlyShare: number;
  /** Gaps over 60 ms (holes a jitter buffer must cover). */
  holes: number;
  longestGapMs: number;
}

let n = 0;
async function play(file: string): Promise<number[]> {
  const a = await RtpEndpoint.open();
  const b = await RtpEndpoint.open();
  const id = `pacing-${n++}`;
  try {
    const offer = await client.request('offer', { 'call-id': id, 'from-tag': 'caller', label: 'caller', sdp: a.sdp({ codecs: ['pcmu'] }) });
    b.setRemoteFromSdp(offer.sdp);
    const answer = await client.request('answer', { 'call-id': id, 'from-tag': 'caller', 'to-tag': 'agent', label: 'agent', sdp: b.sdp({ codecs: ['pcmu'] }) });
    a.setRemoteFromSdp(answer.sdp);
    const reply = await client.request('play media', { 'call-id': id, label: 'agent', file });
    const expected = Math.round(Number(reply.duration) / 20);
    // Until the whole prompt has arrived (bounded by twice its length).
    const until = performance.now() + 2 * Number(reply.duration) + 2000;
    while (b.received.length < expected && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    const t = b.received.map((p) => p.arrivalMs);
    return t.slice(1).map((x, i) => x - t[i]!);
  } finally {
    await client.request('delete', { 'call-id': id }).catch(() => undefined);
    a.close();
    b.close();
  }
}

function pacing(gaps: number[]): Pacing {
  const share = (f: (g: number) => boolean): number => Number((gaps.filter(f).length / gaps.length).toFixed(3));
  return {
    packets: gaps.length + runs,
    gaps: gaps.length,
    evenShare: share((g) => g >= 15 && g <= 25),
    earlyShare: share((g) => g < 15),
    holes: gaps.filter((g) => g > 60).length,
    longestGapMs: Math.round(Math.max(...gaps)),
  };
}

const gapsAu: number[] = [];
const gapsWav: number[] = [];
for (let i = 0; i < runs; i++) {
  gapsAu.push(...(await play(au)));
  gapsWav.push(...(await play(wav)));
}
await rig.stop();
const result = {
  benchmark: 'media-prompt-pacing',
  date: new Date().toISOString(),
  method: `${runs} plays of a ${seconds} s µ-law tone to one leg (rtpengine play media, PCMU), as AU (the playback format) and as WAV (baseline), alternately; gaps between received packets`,
  au: pacing(gapsAu),
  wavBaseline: pacing(gapsWav),
};
writeFileSync(join(values.out, 'media-prompt-pacing.json'), `${JSON.stringify(result, null, 2)}\n`);
writeBarChart(join(values.out, 'media-prompt-pacing.svg'), {
  title: 'Prompt packets arriving 20 ms apart (rtpengine play media)',
  yLabel: 'share of gaps 15–25 ms',
  bars: [
    { label: 'µ-law AU (playback format)', value: result.au.evenShare, note: `${result.au.holes} holes > 60 ms` },
    { label: 'µ-law WAV (baseline)', value: result.wavBaseline.evenShare, note: `${result.wavBaseline.holes} holes > 60 ms` },
  ],
});
console.log(JSON.stringify(result, null, 2));
process.exit(0);
