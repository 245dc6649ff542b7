/**
 * A real private rtpengine for tests, started exactly as the engine starts
 * it (src/media/rtpengine/embedded-rtpengine.ts) but with ports chosen so that
 * several test files, and other people's tests on the same machine, never
 * collide: free ng/CLI ports picked at start and a random RTP port range.
 * Its pcap recordings go to `<dir>/rtpengine/recordings`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { EmbeddedRtpengine, type EmbeddedRtpengineSettings } from '../../../src/media/rtpengine/embedded-rtpengine.js';
import { silentLogger, type Logger } from '../../../src/observability/logger.js';

/** A random RTP port range of `size` ports between 20000 and 60000 (even start: RTP/RTCP pairs). */
export function randomPortRange(size = 400): { portMin: number; portMax: number } {
  const slots = Math.floor((60000 - 20000) / size);
  const portMin = 20000 + randomInt(0, slots) * size;
  return { portMin, portMax: portMin + size - 1 };
}

/** Settings of a test rtpengine: loopback, free ng/CLI ports, a random port range. */
export function testRtpengineSettings(overrides: Partial<EmbeddedRtpengineSettings> = {}): EmbeddedRtpengineSettings {
  return {
    binary: 'rtpengine',
    interface: '127.0.0.1',
    ...randomPortRange(),
    ngPort: 0,
    cliPort: 0,
    logLevel: 6,
    timeoutSeconds: 60,
    silentTimeoutSeconds: 3600,
    threads: 2,
    ...overrides,
  };
}

export interface TestRtpengine {
  readonly rtpengine: EmbeddedRtpengine;
  /** The test's own directory (state dir of the daemon). */
  readonly dir: string;
  /** Stops the daemon and removes the directory. */
  stop(): Promise<void>;
}

/** Starts a private rtpengine in a fresh temp directory and waits until it answers ping. */
export async function startTestRtpengine(options: { logger?: Logger; settings?: Partial<EmbeddedRtpengineSettings>; restart?: { minDelayMs?: number; maxDelayMs?: number } } = {}): Promise<TestRtpengine> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rtpengine-'));
  const rtpengine = new EmbeddedRtpengine({
    settings: testRtpengineSettings(options.settings),
    stateDir: dir,
    logger: options.logger ?? silentLogger(),
    requestTimeoutMs: 3000,
    retransmitMs: 500,
    ...(options.restart !== undefined ? { restart: options.restart } : {}),
  });
  try {
    await rtpengine.start();
  } catch (e) {
    await rtpengine.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    rtpengine,
    dir,
    stop: async () => {
      await rtpengine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
