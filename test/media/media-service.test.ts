/**
 * The media service as the engine uses it: start-up (rtpengine, every
 * configured prompt pre-rendered, a clear error for a bad upload), calls lost
 * when the embedded rtpengine dies, and external rtpengine instances with
 * round-robin placement, health checks and inline prompt delivery.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { PromptInputError, RtpengineUnavailableError } from '../../src/media/media-errors.js';
import { MediaService } from '../../src/media/media-service.js';
import { silentLogger } from '../../src/observability/logger.js';
import { bestCorrelation, bySsrc, readAudio, streamPcm } from '../support/rtp/audio-check.js';
import { RtpEndpoint, waitFor } from '../support/rtp/rtp-endpoint.js';
import { startTestRtpengine, type TestRtpengine } from '../support/rtp/rtpengine-harness.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';
import { processAlive } from '../support/harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function dir(prefix: string): string {
  const d = tempDir(prefix);
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function start(config: ReturnType<typeof mediaTestConfig>, options: { restart?: { minDelayMs: number; maxDelayMs: number } } = {}): Promise<MediaService> {
  const media = await MediaService.start({ config, logger: silentLogger(), ...options });
  cleanups.push(() => media.close());
  return media;
}

/** Live (non-zombie) processes whose command line mentions `text`. */
function processesRunningWith(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(text) && state !== 'Z') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}


describe('MediaService start-up', () => {
  it('pre-renders every configured prompt (whispers per queue and call type, ringback, policy messages); a restart finds them all cached', async () => {
    const state = dir('sb-service-');
    const config = mediaTestConfig(state, {
      queues: [
        { id: 'sales', name: 'Sales' },
        { id: 'support', name: 'Support', whisper: { countdown: false } },
      ],
      deflection: { messages: { afterHours: { en: { text: 'We are closed.' } } } },
    });
    const first = await start(config);
    const stats = first.prompts.renderer.stats;
    expect(stats.renders).toBe(1 /* ringback */ + 3 /* sales whisper, countdown, sequence */ + 1 /* support whisper */ + 1 /* message */);
    await first.close();
    const second = await start(config);
    expect(second.prompts.renderer.stats).toEqual({ renders: 0, cacheHits: 4, processesStarted: 0, mostWaiting: 0 });
    const whisper = await second.prompts.whisperFor('sales', 'inbound');
    expect(whisper!.durationMs).toBeGreaterThan(2000);
    expect(second.prompts.renderer.stats.processesStarted).toBe(0);
  });

  it('an unreadable or non-audio upload stops start-up with one error naming every bad prompt; nothing is left running', async () => {
    const state = dir('sb-service-bad-');
    const notAudio = join(state, 'whisper.mp3');
    writeFileSync(notAudio, 'not audio at all\n'.repeat(50));
    const overrides = {
      queues: [{ id: 'sales', name: 'Sales', whisper: { type: 'audio', file: notAudio } }],
      deflection: { messages: { afterHours: { en: { file: join(state, 'missing.mp3') } } } },
    };
    // A file missing at load is refused with the configuration's other problems...
    expect(() => mediaTestConfig(state, overrides)).toThrow(/deflection\.messages\.afterHours\.en\.file: .*missing\.mp3 does not exist/);
    // ...and one removed between load and start is still caught, with the unusable upload, when prompts render.
    writeFileSync(join(state, 'missing.mp3'), 'x');
    const config = mediaTestConfig(state, overrides);
    rmSync(join(state, 'missing.mp3'));
    const err = await MediaService.start({ config, logger: silentLogger() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptInputError);
    expect((err as PromptInputError).code).toBe(ErrorCodes.PROMPT_INPUT);
    const message = (err as Error).message;
    expect(message).toMatch(/^2 configured prompts could not be rendered:/);
    expect(message).toContain(`queues[0] (sales) whisper for inbound: ${notAudio} is not an audio file that can be played`);
    expect(message).toContain(`deflection.messages.afterHours.en: uploaded prompt ${join(state, 'missing.mp3')} does not exist`);
    // rtpengine had been started for it (its config exists) and was stopped again.
    const conf = join(state, 'rtpengine', 'rtpengine.conf');
    expect(existsSync(conf)).toBe(true);
    expect(processesRunningWith(conf)).toEqual([]);
  });
});

describe('MediaService and a dying embedded rtpengine', () => {
  it('reports the calls it carried as lost, releases them locally, and takes new calls once rtpengine is back', async () => {
    const media = await start(mediaTestConfig(dir('sb-service-lost-')), { restart: { minDelayMs: 100, maxDelayMs: 500 } });
    const caller = await RtpEndpoint.open();
    cleanups.push(() => caller.close());
    const a = media.createCallMedia('lost-a');
    const b = media.createCallMedia('lost-b');
    await a.offer('caller', caller.sdp());
    await b.offer('caller', caller.sdp());
    const lost: string[][] = [];
    media.on('calls-lost', (ids) => lost.push(ids));
    const pid = media.embedded!.pid!;
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => lost.length > 0, 15_000)).toBe(true);
    expect(lost[0]!.sort()).toEqual(['lost-a', 'lost-b']);
    expect(a.released && b.released).toBe(true);
    expect(media.activeCalls).toBe(0);
    expect(processAlive(pid)).toBe(false);
    // Once it is back (restarted by the supervisor), new calls work.
    expect(await waitFor(() => media.instances[0]!.healthy, 10_000)).toBe(true);
    const c = media.createCallMedia('after-restart');
    await expect(c.offer('caller', caller.sdp())).resolves.toMatch(/m=audio/);
  });
});

describe('MediaService with external rtpengine instances', () => {
  async function externals(n: number): Promise<TestRtpengine[]> {
    const rigs: TestRtpengine[] = [];
    for (let i = 0; i < n; i++) {
      const rig = await startTestRtpengine();
      rigs.push(rig);
      cleanups.push(() => rig.stop());
    }
    return rigs;
  }

  it('places calls round-robin, skips an instance that stopped answering, and sends prompts inline where asked', async () => {
    const [r1, r2] = await externals(2);
    const config = mediaTestConfig(dir('sb-service-ext-'), {
      media: {
        rtpengine: {
          mode: 'external',
          healthCheckMs: 200,
          requestTimeoutMs: 400,
          retransmitMs: 100,
          external: [
            { host: '127.0.0.1', port: r1!.rtpengine.ngPort, promptDelivery: 'inline' },
            { host: '127.0.0.1', port: r2!.rtpengine.ngPort, promptDelivery: 'file' },
          ],
        },
      },
      deflection: { messages: { afterHours: { en: { text: 'We are closed.' } } } },
    });
    const media = await start(config);
    expect(media.recordingDir).toBeUndefined();
    const placed = ['x1', 'x2', 'x3', 'x4'].map((id) => media.createCallMedia(id).instance.id);
    expect(placed).toEqual([`127.0.0.1:${r1!.rtpengine.ngPort}`, `127.0.0.1:${r2!.rtpengine.ngPort}`, `127.0.0.1:${r1!.rtpengine.ngPort}`, `127.0.0.1:${r2!.rtpengine.ngPort}`]);

    // Inline delivery: the prompt travels in the ng message and the caller hears it.
    const message = await media.prompts.configuredPrompt('deflection.messages.afterHours.en');
    const caller = await RtpEndpoint.open();
    cleanups.push(() => caller.close());
    const call = media.getCallMedia('x1')!;
    await call.offer('caller', caller.sdp({ codecs: ['pcmu'] }));
    await call.playToEnd('caller', message);
    const [stream] = [...bySsrc(caller.received).values()];
    const reference = readAudio(message.path).samples;
    expect(bestCorrelation(streamPcm(stream!), reference.subarray(0, reference.length - 800), 800).correlation).toBeGreaterThan(0.95);

    // The first instance goes away: after a health check, new calls go to the second only.
    await r1!.stop();
    expect(await waitFor(() => !media.instances[0]!.healthy, 10_000)).toBe(true);
    expect(['y1', 'y2', 'y3'].map((id) => media.createCallMedia(id).instance.id)).toEqual(Array(3).fill(`127.0.0.1:${r2!.rtpengine.ngPort}`));
  });

  it('refuses to start when no external instance answers', async () => {
    const config = mediaTestConfig(dir('sb-service-none-'), {
      media: { rtpengine: { mode: 'external', requestTimeoutMs: 300, retransmitMs: 100, external: [{ host: '127.0.0.1', port: 9 }] } },
    });
    const err = await MediaService.start({ config, logger: silentLogger(), prerender: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtpengineUnavailableError);
    expect((err as Error).message).toContain('127.0.0.1:9');
  });
});
