/**
 * The embedded default, as `switchboard start` runs it with no configuration:
 * the worker starts its own redis-server, the call side enqueues through its
 * socket, recordings land as MP3 in the local-directory CRM, and nothing
 * secret or audible ever reaches the logs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigObject } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import type { RecordingControl } from '../../src/recordings/capture/call-recording.js';
import { pingRedis } from '../../src/recordings/queue/redis-connection.js';
import { RecordingCapture } from '../../src/recordings/service/recording-capture.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { collectEvents } from './support/harness.js';
import { T0_MICROS, writeRtpengineSegment } from './support/recording-fixture.js';
import { agentStream, callerStream } from './support/rtp-call.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'sb-rec-emb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('embedded default', () => {
  it('records, converts to MP3, delivers to the local CRM folder, with no key, credential or audio in the logs', async () => {
    let logText = '';
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        logText += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'trace', destination: sink });
    const config = loadConfigObject({ node: { stateDir: join(root, 'state'), logLevel: 'trace' }, recordings: { reconcileIntervalSeconds: 1 } });
    const worker = await RecordingsWorker.start({ config, logger });
    try {
      expect(worker.redisUrl).toBe(`unix://${join(root, 'state', 'redis', 'redis.sock')}`);
      const events = collectEvents(worker.events);

      // Stands in for rtpengine: each start/stop writes a segment where rtpengine would.
      let segmentStart = T0_MICROS;
      let pending: string | undefined;
      const control: RecordingControl = {
        start: async (_callId, metadata) => void (pending = metadata),
        stop: async (callId) => {
          const m = /recording=([^;]+);segment=(\d+)/.exec(pending ?? '')!;
          writeRtpengineSegment(worker.paths.captureDir, callId, m[1]!, Number(m[2]), segmentStart, 2);
          segmentStart += 3_000_000;
        },
      };
      const capture = await RecordingCapture.create({ config, logger, control });
      try {
        const rec = capture.begin({
          callId: 'emb-call@host',
          ticketId: 'TICKET-1',
          caller: { number: 'anonymous' },
          agent: { id: 'a1' },
          media: { caller: { localPort: callerStream().dstPort }, agent: { localPort: agentStream().dstPort } },
        });
        await rec.start();
        await rec.pause();
        await rec.resume();
        await rec.finish();
        await events.until((all) => all.some((e) => e.type === 'uploaded' && e.recordingId === rec.recordingId), 30_000);
      } finally {
        await capture.close();
      }
      const folder = join(worker.paths.crmDir, 'TICKET-1');
      const files = readdirSync(folder).sort();
      expect(files.filter((f) => f.endsWith('.mp3'))).toHaveLength(1);
      const mp3 = join(folder, files.find((f) => f.endsWith('.mp3'))!);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', mp3]);
      expect(Number(stdout)).toBeGreaterThan(4.8); // 2 s + 1 s pause + 2 s
      const receipt = JSON.parse(readFileSync(`${mp3}.json`, 'utf8')) as { metadata: { contact: { name: string; anonymous: boolean }; pauses: unknown[] } };
      expect(receipt.metadata.contact.name).toMatch(/^Phone User - \d\d\/\d\d \d\d:\d\d$/);
      expect(receipt.metadata.pauses).toHaveLength(1);
      expect(existsSync(join(root, 'state', 'keys', 'recordings.key'))).toBe(true);
    } finally {
      await worker.stop();
    }
    const key = readFileSync(join(root, 'state', 'keys', 'recordings.key'), 'utf8').trim();
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toContain(key);
    expect(logText).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    // no long binary-looking runs (base64 or hex dumps of audio)
    expect(logText).not.toMatch(/[A-Za-z0-9+/]{200,}/);
  }, 60_000);
});

describe('stopping the worker', () => {
  it('stops its embedded Redis even when an earlier step of the stop fails (no server outlives its worker)', async () => {
    const stateDir = join(root, 'stop-state');
    const config = loadConfigObject({ node: { stateDir, logLevel: 'warn' } });
    const worker = await RecordingsWorker.start({ config, logger: createLogger({ level: 'silent' }) });
    const socket = join(stateDir, 'redis', 'redis.sock');
    expect(await pingRedis({ path: socket })).toBe(true);
    // A fault in the middle of the stop (here the events file cannot be flushed).
    worker.events.flush = () => Promise.reject(new Error('disk gone'));
    await expect(worker.stop()).rejects.toThrow('disk gone');
    expect(await pingRedis({ path: socket })).toBe(false);
  });
});
