/**
 * The delivery step on its own (no queue): splitting further on 413, giving up
 * on a refusal or a damaged file without sending a byte, expiring at the
 * deadline, and the back-off schedule.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { retryDelay } from '../../src/recordings/delivery/backoff.js';
import { expireRecording } from '../../src/recordings/delivery/expire.js';
import { convertStep } from '../../src/recordings/delivery/convert-step.js';
import { deliverStep, GiveUp, RetryLater, type DeliverOutcome } from '../../src/recordings/delivery/deliver-step.js';
import type { PipelineContext } from '../../src/recordings/delivery/pipeline-context.js';
import type { CrmAdapter, PartUpload } from '../../src/recordings/crm/crm-adapter.js';
import { CrmError, RecordingExpiredError } from '../../src/recordings/errors.js';
import type { RecordingEvents } from '../../src/recordings/events/recording-events.js';
import { setupPipeline } from '../../src/recordings/service/recordings-setup.js';
import { testConfig } from './support/harness.js';
import { recordingFixture } from './support/recording-fixture.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'sb-rec-step-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Received {
  readonly part: PartUpload;
  readonly bytes: Buffer;
}

/** An in-process CRM adapter: records what it receives, answers what the test scripts. */
class ScriptedCrm implements CrmAdapter {
  readonly name = 'scripted';
  readonly received: Received[] = [];
  constructor(private readonly answer: (p: PartUpload, bytes: Buffer) => Error | undefined) {}
  async upload(part: PartUpload): Promise<{ attachmentId: string }> {
    const chunks: Buffer[] = [];
    for await (const c of part.body()) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    const err = this.answer(part, bytes);
    if (err !== undefined) throw err;
    this.received.push({ part, bytes });
    return { attachmentId: `a${this.received.length}` };
  }
}

let n = 0;
async function pipelineFor(crm: CrmAdapter, recordings: Record<string, unknown> = {}, clock?: () => number): Promise<{ ctx: PipelineContext; events: RecordingEvents }> {
  const config = testConfig({ stateDir: join(root, `s${n++}`), recordings });
  const { ctx, events } = await setupPipeline({ config, logger: silentLogger(), crm, ...(clock !== undefined ? { clock } : {}) });
  return { ctx, events };
}

async function captured(ctx: PipelineContext, id: string, seconds: number, startedAt?: number, retentionMs?: number): Promise<void> {
  const f = recordingFixture({ recordingId: id, captureDir: ctx.captureDir, seconds, ...(startedAt !== undefined ? { startedAt } : {}), ...(retentionMs !== undefined ? { retentionMs } : {}) });
  await ctx.store.create(f.manifest);
  expect(await convertStep(ctx, id)).toBe('converted');
}

async function deliverAll(ctx: PipelineContext, id: string): Promise<DeliverOutcome[]> {
  const outcomes: DeliverOutcome[] = [];
  for (let i = 0; i < 200; i++) {
    const o = await deliverStep(ctx, id);
    outcomes.push(o);
    if (o.kind === 'delivered' || o.kind === 'already-finished') return outcomes;
  }
  throw new Error('did not finish');
}

describe('delivery step', () => {
  it('answers 413 by cutting the rest into smaller MP3 parts on frame boundaries, each playable', async () => {
    const limit = 20_000;
    const crm = new ScriptedCrm((p) => (p.size > limit ? new CrmError('too-large', `413 for ${p.size} bytes`) : undefined));
    const { ctx } = await pipelineFor(crm, { format: 'mp3', partMaxBytes: 65_536 });
    await captured(ctx, 'mp3-413', 20);
    const outcomes = await deliverAll(ctx, 'mp3-413');
    // the first part (cut at the last frame boundary under 64 KiB) was refused; the limit halves from its size
    const splits = outcomes.filter((o) => o.kind === 'split');
    expect(splits.length).toBeGreaterThanOrEqual(1);
    expect(crm.received.length).toBeGreaterThanOrEqual(2);
    expect(crm.received.map((r) => r.part.partNumber)).toEqual(crm.received.map((_, i) => i + 1));
    for (const [i, r] of crm.received.entries()) {
      expect(r.bytes.length).toBeLessThanOrEqual(limit);
      const file = join(root, `mp3-413-${i}.mp3`);
      writeFileSync(file, r.bytes);
      const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
      expect(stderr.trim()).toBe('');
    }
    // the parts cover the audio exactly once, in order
    const keys = crm.received.map((r) => r.part.idempotencyKey.split('/').pop()!.split('-').map(Number));
    for (let i = 1; i < keys.length; i++) expect(keys[i]![0]).toBe(keys[i - 1]![1]);
    expect(keys[0]![0]).toBe(0);
  });

  it('an MP3 the CRM refuses (413) even in the smallest part its frame index allows gives up with the reason, instead of retrying until it expires', async () => {
    const crm = new ScriptedCrm((p) => (p.size > 10_000 ? new CrmError('too-large', `413 for ${p.size} bytes`) : undefined));
    const { ctx } = await pipelineFor(crm, { format: 'mp3', partMaxBytes: 65_536 });
    await captured(ctx, 'mp3-tiny', 20);
    let outcome: unknown;
    for (let i = 0; i < 20 && outcome === undefined; i++) {
      outcome = await deliverStep(ctx, 'mp3-tiny').then(
        (o) => (o.kind === 'split' ? undefined : o),
        (e: unknown) => e,
      );
    }
    expect(outcome).toMatchObject({ name: 'GiveUp', reason: expect.stringMatching(/413 for \d+ bytes; no part of at most \d+ bytes can be cut/) });
    expect(crm.received).toEqual([]);
    // A limit saved by an earlier version (too small to cut at all) fails the same way, not for ever.
    const progress = (await ctx.store.readProgress('mp3-tiny'))!;
    await ctx.store.writeProgress('mp3-tiny', { ...progress, partLimit: 8208 });
    await expect(deliverStep(ctx, 'mp3-tiny')).rejects.toMatchObject({ name: 'GiveUp', reason: expect.stringContaining('cannot cut an MP3 part of at most 8208 bytes') });
  });

  it('a recording paused when the call ended is converted with silence from the pause to the end, as long as the pause', async () => {
    const { ctx } = await pipelineFor(new ScriptedCrm(() => undefined));
    const started = Date.now();
    const f = recordingFixture({ recordingId: 'paused-end', captureDir: ctx.captureDir, seconds: 2, startedAt: started });
    // Paused after its 2 s of audio, and the call went on 3 s more.
    await ctx.store.create({ ...f.manifest, pauses: [{ pausedAt: new Date(started + 2000).toISOString() }], endedAt: new Date(started + 5000).toISOString() });
    expect(await convertStep(ctx, 'paused-end')).toBe('converted');
    expect((await ctx.store.readManifest('paused-end'))!.audio!.durationMs).toBeCloseTo(5000, -1);
  });

  it('gives up on a refusal (400) with the reason, sends nothing more and keeps the files', async () => {
    const crm = new ScriptedCrm(() => new CrmError('rejected', 'the CRM refused part 1 of recording x with 400 (ticket closed)'));
    const { ctx } = await pipelineFor(crm);
    await captured(ctx, 'refused', 2);
    await expect(deliverStep(ctx, 'refused')).rejects.toThrow(GiveUp);
    expect(await ctx.store.readManifest('refused')).toBeDefined();
    expect((await ctx.store.readProgress('refused'))?.lastError).toContain('ticket closed');
  });

  it('refuses to send a recording whose encrypted file was tampered with: not one byte reaches the CRM', async () => {
    const crm = new ScriptedCrm(() => undefined);
    const { ctx } = await pipelineFor(crm);
    await captured(ctx, 'tampered', 3);
    const file = ctx.store.audioPath('tampered');
    const bytes = readFileSync(file);
    bytes[bytes.length - 500] = bytes[bytes.length - 500]! ^ 0x10;
    writeFileSync(file, bytes);
    await expect(deliverStep(ctx, 'tampered')).rejects.toMatchObject({ name: 'GiveUp', reason: expect.stringContaining('failed authentication') });
    expect(crm.received).toEqual([]);
  });

  it('schedules a retry with back-off on a retryable failure, and reports it', async () => {
    const crm = new ScriptedCrm(() => new CrmError('retryable', 'the CRM answered 502'));
    const { ctx, events } = await pipelineFor(crm);
    const seen: string[] = [];
    events.subscribe((e) => seen.push(`${e.type}:${e.attempt ?? ''}`));
    await captured(ctx, 'flaky', 2);
    const first = await deliverStep(ctx, 'flaky').catch((e: unknown) => e);
    const second = await deliverStep(ctx, 'flaky').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RetryLater);
    expect((second as RetryLater).attempt).toBe(2);
    expect(seen).toContain('retrying:1');
    expect(seen).toContain('retrying:2');
  });

  it("takes the CRM's rate limit (429) as no attempt: the part's failure count and back-off stay where they were", async () => {
    const answers = [
      new CrmError('retryable', 'the CRM answered 500'),
      new CrmError('rate-limited', "the CRM's API limit was reached (429)", { status: 429 }),
      new CrmError('retryable', 'the CRM answered 500'),
    ];
    const crm = new ScriptedCrm(() => answers.shift());
    const { ctx, events } = await pipelineFor(crm, { upload: { initialBackoffMs: 1000, maxBackoffMs: 60_000, jitter: 0 } });
    const retrying: { attempt?: number; retryInMs?: number; reason?: string }[] = [];
    events.subscribe((e) => e.type === 'retrying' && retrying.push(e));
    await captured(ctx, 'limited', 2);
    const outcomes: unknown[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await deliverStep(ctx, 'limited').catch((e: unknown) => e));
    expect(outcomes.map((o) => [(o as RetryLater).rateLimited, (o as RetryLater).delayMs])).toEqual([
      [false, 1000],
      [true, 1000],
      [false, 2000], // the second failure of the part, not the third
    ]);
    expect(retrying.map((e) => e.attempt)).toEqual([1, undefined, 2]);
    expect(retrying[1]!.reason).toContain('no attempt used');
    expect((await ctx.store.readProgress('limited'))?.failures).toBe(2);
    expect((await deliverAll(ctx, 'limited')).at(-1)).toEqual({ kind: 'delivered', parts: 1 });
  });

  it('is idempotent once delivered: running it again does nothing', async () => {
    const crm = new ScriptedCrm(() => undefined);
    const { ctx } = await pipelineFor(crm);
    await captured(ctx, 'done', 2);
    expect((await deliverAll(ctx, 'done')).at(-1)).toEqual({ kind: 'delivered', parts: 1 });
    expect(await deliverStep(ctx, 'done')).toEqual({ kind: 'already-finished' });
    expect(crm.received.length).toBe(1);
  });

  it('a capture left behind by a conversion run cut short (a worker killed after the manifest, its job given up as stalled) is deleted at delivery', async () => {
    const crm = new ScriptedCrm(() => undefined);
    const { ctx } = await pipelineFor(crm);
    const f = recordingFixture({ recordingId: 'left', captureDir: ctx.captureDir, seconds: 2, copyTo: join(root, 'copies') });
    await ctx.store.create(f.manifest);
    expect(await convertStep(ctx, 'left')).toBe('converted');
    expect(existsSync(f.pcap)).toBe(false);
    // The run that converted it died before deleting the capture; the recording is then delivered by a run that skips conversion.
    copyFileSync(f.copy!, f.pcap);
    expect((await deliverAll(ctx, 'left')).at(-1)).toEqual({ kind: 'delivered', parts: 1 });
    expect(existsSync(f.pcap)).toBe(false);
  });

  it('two runs of one recording at once (a stalled job taken up again): the one that finds the files gone after the other delivered them says already finished, not failed', async () => {
    const crm = new ScriptedCrm(() => undefined);
    const { ctx } = await pipelineFor(crm);
    await captured(ctx, 'twice', 2);
    // The second run starts and finishes between the first run's reading of the manifest and its opening of the audio.
    const readProgress = ctx.store.readProgress.bind(ctx.store);
    let second: DeliverOutcome[] | undefined;
    ctx.store.readProgress = async (id) => {
      if (second === undefined) {
        second = [];
        second.push(...(await deliverAll(ctx, id)));
      }
      return readProgress(id);
    };
    expect(await deliverStep(ctx, 'twice')).toEqual({ kind: 'already-finished' });
    expect(second!.at(-1)).toEqual({ kind: 'delivered', parts: 1 });
    expect(crm.received.length).toBe(1);
  });

  it('a conversion run that finds the capture gone because another run converted it says already converted, not failed', async () => {
    const { ctx } = await pipelineFor(new ScriptedCrm(() => undefined));
    const f = recordingFixture({ recordingId: 'conv2', captureDir: ctx.captureDir, seconds: 1 });
    await ctx.store.create(f.manifest);
    // The second run reads the manifest before the first writes "converted", and looks for the capture after it was deleted.
    const readManifest = ctx.store.readManifest.bind(ctx.store);
    let first = true;
    ctx.store.readManifest = async (id) => {
      const m = await readManifest(id);
      if (first) {
        first = false;
        expect(await convertStep(ctx, id)).toBe('converted');
      }
      return m;
    };
    expect(await convertStep(ctx, 'conv2')).toBe('already-converted');
  });

  it('still gives up on a recording whose audio file is missing with no record of delivery', async () => {
    const { ctx } = await pipelineFor(new ScriptedCrm(() => undefined));
    await captured(ctx, 'lost', 2);
    rmSync(ctx.store.audioPath('lost'));
    await expect(deliverStep(ctx, 'lost')).rejects.toThrow(/encrypted audio file is missing/);
  });

  it('reports expiry, not a failure, when the sweeper deletes the recording while a part is in flight', async () => {
    const ref: { ctx?: PipelineContext } = {};
    const crm = new ScriptedCrm(() => undefined);
    const racing: CrmAdapter = {
      name: 'racing',
      upload: async (p) => {
        await expireRecording(ref.ctx!, await ref.ctx!.store.readManifest('raced'), 'raced', 'retention limit reached (sweeper)');
        return crm.upload(p);
      },
    };
    const { ctx } = await pipelineFor(racing);
    ref.ctx = ctx;
    await captured(ctx, 'raced', 2);
    await expect(deliverStep(ctx, 'raced')).rejects.toThrow(RecordingExpiredError);
    await expect(deliverStep(ctx, 'raced')).rejects.toThrow(RecordingExpiredError);
  });

  it('a worker stopped after converting but before deleting the capture: the next run deletes the plaintext pcap', async () => {
    const { ctx } = await pipelineFor(new ScriptedCrm(() => undefined));
    const f = recordingFixture({ recordingId: 'half', captureDir: ctx.captureDir, seconds: 1, copyTo: join(root, 'half-copy') });
    await ctx.store.create(f.manifest);
    expect(await convertStep(ctx, 'half')).toBe('converted');
    expect(existsSync(f.pcap)).toBe(false);
    copyFileSync(f.copy!, f.pcap); // what a stop between the converted manifest and the deletion leaves
    expect(await convertStep(ctx, 'half')).toBe('already-converted');
    expect(existsSync(f.pcap)).toBe(false);
  });

  it('waits (retries shortly) while another process is deleting the recording, instead of calling it lost', async () => {
    const { ctx } = await pipelineFor(new ScriptedCrm(() => undefined));
    await captured(ctx, 'going', 2);
    const claimed = await ctx.store.claim('going');
    expect(claimed).not.toBe(false);
    await expect(deliverStep(ctx, 'going')).rejects.toThrow(RetryLater);
    await expect(convertStep(ctx, 'going')).rejects.toThrow(RetryLater);
  });

  it('expires a recording at its deadline instead of uploading it', async () => {
    let now = Date.now();
    const crm = new ScriptedCrm(() => undefined);
    const { ctx } = await pipelineFor(crm, {}, () => now);
    await captured(ctx, 'late', 2, now, 60_000);
    now += 60_000;
    await expect(deliverStep(ctx, 'late')).rejects.toThrow(RecordingExpiredError);
    expect(crm.received).toEqual([]);
    expect(await ctx.store.readManifest('late')).toBeUndefined();
    expect((await ctx.store.readTombstone('late'))?.state).toBe('expired');
  });
});

describe('back-off', () => {
  const policy = { initialMs: 1000, maxMs: 60_000, jitter: 0.5 };
  const far = { now: 0, expiresAt: 1e12 };

  it('doubles with each failure of the same part, up to the maximum', () => {
    const noJitter = { ...policy, jitter: 0 };
    expect([1, 2, 3, 4, 10].map((f) => retryDelay(noJitter, f, far))).toEqual([1000, 2000, 4000, 8000, 60_000]);
  });

  it('takes a random share off (jitter), never more than the configured fraction', () => {
    for (const r of [0, 0.25, 0.999]) {
      const d = retryDelay(policy, 3, { ...far, random: () => r });
      expect(d).toBeLessThanOrEqual(4000);
      expect(d).toBeGreaterThanOrEqual(2000);
    }
    expect(retryDelay(policy, 3, { ...far, random: () => 0.5 })).toBe(3000);
  });

  it("waits at least the CRM's Retry-After, even beyond the maximum back-off", () => {
    expect(retryDelay(policy, 1, { ...far, retryAfterMs: 120_000, random: () => 0 })).toBe(120_000);
  });

  it('never schedules an attempt past the retention deadline', () => {
    expect(retryDelay(policy, 10, { now: 1000, expiresAt: 6000, random: () => 0 })).toBe(5000);
    expect(retryDelay(policy, 1, { now: 7000, expiresAt: 6000, retryAfterMs: 9000 })).toBe(0);
  });
});
