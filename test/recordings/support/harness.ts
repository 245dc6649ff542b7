/** Shared set-up for the queue tests: a config for a temp state dir, expected audio, waiting for events. */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { loadConfigObject, type SwitchboardConfig } from '../../../src/config/load.js';
import { convertPcapsToPcm } from '../../../src/recordings/convert/pcap-to-pcm.js';
import type { RecordingEvent, RecordingEvents } from '../../../src/recordings/events/recording-events.js';
import { AGENT_PORT, CALLER_PORT } from './rtp-call.js';

export const TEST_KEY = randomBytes(32).toString('base64');

export function testConfig(o: { stateDir: string; crmUrl?: string; redisUrl?: string; recordings?: Record<string, unknown>; crm?: Record<string, unknown> }): SwitchboardConfig {
  return loadConfigObject({
    node: { stateDir: o.stateDir, logLevel: 'silent' },
    redis: { keyPrefix: `t${randomBytes(6).toString('hex')}`, ...(o.redisUrl !== undefined ? { url: o.redisUrl } : {}) },
    recordings: {
      format: 'wav',
      encryption: { keyId: 'test', key: TEST_KEY, chunkBytes: 8192 },
      sweepIntervalSeconds: 1,
      reconcileIntervalSeconds: 1,
      upload: { initialBackoffMs: 50, maxBackoffMs: 400, jitter: 0.5, lockMs: 1000, concurrency: 2, rateLimit: { max: 50, durationMs: 1000 } },
      ...o.recordings,
    },
    crm:
      o.crmUrl !== undefined
        ? { adapter: 'http', http: { url: o.crmUrl, authValue: 'Bearer secret-token', responseTimeoutMs: 600, idleTimeoutMs: 2000 }, ...o.crm }
        : { adapter: 'directory', ...o.crm },
  });
}

export async function expectedPcm(pcap: string, layout: 'stereo' | 'mono' = 'stereo'): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await convertPcapsToPcm({ segments: [pcap], layout, parties: { caller: { localPort: CALLER_PORT }, agent: { localPort: AGENT_PORT } } }, out);
  out.end();
  return Buffer.concat(chunks);
}

/** Collects events and resolves when `done` holds (or rejects after `timeoutMs`). */
export function collectEvents(events: RecordingEvents): { all: RecordingEvent[]; until: (done: (all: RecordingEvent[]) => boolean, timeoutMs: number) => Promise<void>; stop: () => void } {
  const all: RecordingEvent[] = [];
  const waiters: (() => void)[] = [];
  const stop = events.subscribe((e) => {
    all.push(e);
    for (const w of waiters) w();
  });
  return {
    all,
    stop,
    until: (done, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (done(all)) {
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out; events so far:\n${all.map((e) => `${e.type} ${e.recordingId} ${e.reason ?? ''}`).join('\n')}`)), timeoutMs);
        waiters.push(check);
        check();
      }),
  };
}

/** Polls `cond` every 50 ms until true or the deadline. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
