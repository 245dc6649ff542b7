/**
 * A real private rtpengine for tests, started exactly as the engine starts
 * it (src/media/rtpengine/embedded-rtpengine.ts) but with ports chosen so that
 * several test files, and other people's tests on the same machine, never
 * collide: the RTP port range from this process's port block
 * (test/support/ports.ts); the ng and CLI ports from the OS, which the
 * embedded rtpengine picks again if they were taken before the daemon bound them.
 * Its pcap recordings go to `<dir>/rtpengine/recordings`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRtpengine, type EmbeddedRtpengineSettings } from '../../../src/media/rtpengine/embedded-rtpengine.js';
import { silentLogger, type Logger } from '../../../src/observability/logger.js';
import { reservePortRange } from '../ports.js';

/**
 * An RTP port range of `size` ports (even start: RTP/RTCP pairs) from this process's own port
 * block (test/support/ports.ts), so no other test file's rtpengine or SIPp uses them. (The name
 * is from when the range was picked at random.)
 */
export function randomPortRange(size = 400): { portMin: number; portMax: number } {
  return reservePortRange(size);
}

/** Settings of a test rtpengine: loopback, ng/CLI ports from the OS, an RTP range of this process's block. */
export function testRtpengineSettings(overrides: Partial<EmbeddedRtpengineSettings> = {}): EmbeddedRtpengineSettings {
  // A range only when the overrides choose none, so this process's block is not spent for nothing.
  const range = overrides.portMin === undefined ? randomPortRange() : { portMin: overrides.portMin, portMax: overrides.portMax ?? overrides.portMin + 399 };
  return {
    binary: 'rtpengine',
    interface: '127.0.0.1',
    ...range,
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
