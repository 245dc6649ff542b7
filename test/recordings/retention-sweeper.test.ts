/** The retention sweeper on its own, with an injected clock. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { RetentionSweeper } from '../../src/recordings/delivery/retention-sweeper.js';
import { RecordingEvents, type RecordingEvent } from '../../src/recordings/events/recording-events.js';
import { RecordingStore } from '../../src/recordings/store/recording-store.js';
import { recordingFixture } from './support/recording-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'sb-rec-sweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function setup(trashGraceMs?: number) {
  const dir = join(root, `s${n++}`);
  const store = new RecordingStore(join(dir, 'spool'));
  await store.init();
  let now = Date.now();
  const events = new RecordingEvents(join(dir, 'events.jsonl'), silentLogger(), undefined, () => now);
  const seen: RecordingEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const ctx = { store, events, captureDir: join(dir, 'capture'), retentionMs: 10_000, clock: () => now, logger: silentLogger() };
  const sweeper = new RetentionSweeper(ctx, 60_000, trashGraceMs);
  return { store, ctx, sweeper, seen, advance: (ms: number) => (now += ms), now: () => now };
}

describe('retention sweeper', () => {
  it('leaves a recording alone until its deadline, then deletes it and its capture, and reports the loss', async () => {
    const t = await setup();
    const f = recordingFixture({ recordingId: 'r1', captureDir: t.ctx.captureDir, seconds: 1, startedAt: t.now(), retentionMs: 10_000 });
    await t.store.create(f.manifest);
    const first = await t.sweeper.sweepOnce();
    expect(first.deleted).toEqual([]);
    expect(first.nextDueAt).toBe(t.now() + 10_000);
    t.advance(10_000);
    const second = await t.sweeper.sweepOnce();
    expect(second.deleted).toEqual(['r1']);
    expect(await t.store.list()).toEqual([]);
    expect(t.seen.filter((e) => e.type === 'expired').map((e) => [e.recordingId, e.reason])).toEqual([['r1', expect.stringContaining('retention limit')]]);
    expect((await t.store.readTombstone('r1'))?.state).toBe('expired');
  });

  it('applies a shortened retention to recordings made under a longer one', async () => {
    const t = await setup();
    const f = recordingFixture({ recordingId: 'r2', captureDir: t.ctx.captureDir, seconds: 1, startedAt: t.now(), retentionMs: 7 * 86_400_000 });
    await t.store.create(f.manifest);
    t.advance(10_000);
    expect((await t.sweeper.sweepOnce()).deleted).toEqual(['r2']);
  });

  it('removes a delivered recording caught between its last part and its clean-up without reporting a loss', async () => {
    const t = await setup();
    const f = recordingFixture({ recordingId: 'r3', captureDir: t.ctx.captureDir, seconds: 1, startedAt: t.now(), retentionMs: 10_000 });
    await t.store.create(f.manifest);
    await t.store.writeTombstone({ recordingId: 'r3', callId: 'c', state: 'delivered', at: new Date().toISOString(), parts: 1 });
    rmSync(t.ctx.captureDir, { recursive: true }); // converted long ago
    t.advance(10_000);
    await t.sweeper.sweepOnce();
    expect(await t.store.list()).toEqual([]);
    expect(t.seen).toEqual([]);
  });

  it('deletes a spool directory whose manifest is unreadable once it is older than the limit', async () => {
    const t = await setup();
    mkdirSync(t.store.dir('broken'));
    writeFileSync(join(t.store.dir('broken'), 'manifest.json'), '{ not json');
    expect((await t.sweeper.sweepOnce()).deleted).toEqual([]);
    t.advance(10_001);
    expect((await t.sweeper.sweepOnce()).deleted).toEqual(['broken']);
    expect(t.seen[0]?.reason).toContain('unreadable or missing manifest');
  });

  it('leaves a deletion in progress to its owner, and finishes an abandoned one, reporting it', async () => {
    const busy = await setup();
    mkdirSync(join(busy.store.trashDir, 'r4-0a0b0c0d'));
    await busy.sweeper.sweepOnce();
    expect(busy.seen).toEqual([]);

    const abandoned = await setup(0);
    mkdirSync(join(abandoned.store.trashDir, 'r5-0a0b0c0d'));
    await abandoned.sweeper.sweepOnce();
    expect(abandoned.seen.map((e) => [e.type, e.recordingId])).toEqual([['expired', 'r5']]);
    expect(abandoned.seen[0]?.reason).toContain('interrupted deletion');
  });
});
