/** The retention sweeper on its own, with an injected clock. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { RetentionSweeper } from '../../src/recordings/delivery/retention-sweeper.js';
import { RecordingEvents, type RecordingEvent } from '../../src/recordings/events/recording-events.js';
import { RecordingStore } from '../../src/recordings/store/recording-store.js';
import { waitFor } from './support/harness.js';
import { recordingFixture, writeRtpengineSegment } from './support/recording-fixture.js';

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
    // Its age counts from the directory's creation, a real instant after the test clock was set: past it by the limit.
    t.advance(Date.now() - t.now() + 10_001);
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
    abandoned.advance(60_000); // its claim's ctime is behind the sweeper's clock
    await abandoned.sweeper.sweepOnce();
    expect(abandoned.seen.map((e) => [e.type, e.recordingId])).toEqual([['expired', 'r5']]);
    expect(abandoned.seen[0]?.reason).toContain('interrupted deletion');
  });

  it('with two sweepers on one spool, each deletion is reported exactly once, by the one that made it', async () => {
    // Several rounds: the sweeps race differently each time; every round must still report each deletion once.
    for (let round = 0; round < 6; round++) {
      const dir = join(root, `s${n++}`);
      const store = new RecordingStore(join(dir, 'spool'));
      await store.init();
      const captureDir = join(dir, 'capture');
      const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
      // capture files of calls that never reached the pipeline (a pcap and its metadata file naming the recording)
      for (let i = 0; i < 12; i++) writeRtpengineSegment(captureDir, `orphan-${i}@test.invalid`, `rec-orphan-${i}`, 1, 1_700_000_000_000_000, 0.1);
      for (const sub of ['pcaps', 'metadata']) for (const f of readdirSync(join(captureDir, sub))) utimesSync(join(captureDir, sub, f), eightDaysAgo, eightDaysAgo);
      // recordings past their deadline, and deletions abandoned by a crashed process
      for (let i = 0; i < 3; i++) {
        const f = recordingFixture({ recordingId: `rec-old-${i}`, captureDir: join(dir, 'elsewhere'), seconds: 0.1, startedAt: Date.now() - 200_000, retentionMs: 120_000 });
        await store.create(f.manifest);
        const g = recordingFixture({ recordingId: `rec-crashed-${i}`, captureDir: join(dir, 'elsewhere'), seconds: 0.1 });
        await store.create(g.manifest);
        expect(await store.claim(`rec-crashed-${i}`)).not.toBe(false);
      }
      // The sweepers' clock is one grace period (60 s) past the crashed claims: those count as abandoned,
      // a claim either sweeper makes from now on (a later ctime) as a deletion in progress.
      const claimedUpTo = Math.max(...readdirSync(store.trashDir).map((name) => statSync(join(store.trashDir, name)).ctimeMs));
      let probes = 0;
      await waitFor(() => {
        const probe = join(dir, `probe-${probes++}`);
        writeFileSync(probe, '');
        return statSync(probe).ctimeMs > claimedUpTo;
      }, 5000, "the file system's clock to pass the claims");
      const now = claimedUpTo + 60_000;
      const seen: RecordingEvent[] = [];
      const sweepers = ['a', 'b'].map((name) => {
        const events = new RecordingEvents(join(dir, `events-${name}.jsonl`), silentLogger());
        events.subscribe((e) => seen.push(e));
        // (retention longer than the clock's lead: the tombstones being written are not old enough to go)
        return new RetentionSweeper({ store, events, captureDir, retentionMs: 120_000, clock: () => now, logger: silentLogger() }, 60_000);
      });

      const [a, b] = await Promise.all(sweepers.map((s) => s.sweepOnce()));

      const expired = seen.filter((e) => e.type === 'expired');
      const keyOf = (e: RecordingEvent): string => /capture file (\S+)/.exec(e.reason ?? '')?.[1] ?? e.recordingId;
      const keys = expired.map(keyOf);
      expect(new Set(keys).size, `round ${round}: reported twice: ${keys.filter((k, i) => keys.indexOf(k) !== i).join(', ')}`).toBe(keys.length);
      expect(keys.length).toBe(12 * 2 + 3 + 3);
      expect([...a!.deleted, ...b!.deleted].length).toBe(keys.length);
      // a metadata file is reported under the recording it names, never as "unknown"
      for (const e of expired.filter((x) => keyOf(x).startsWith('metadata/'))) expect(e.recordingId).toMatch(/^rec-orphan-\d+$/);
      // an abandoned deletion is reported with the call id its manifest held
      for (const e of expired.filter((x) => x.recordingId.startsWith('rec-crashed-'))) expect(e.callId).toBe(`${e.recordingId}@test.invalid`);
      // and everything is gone
      for (const sub of ['pcaps', 'metadata']) expect(readdirSync(join(captureDir, sub))).toEqual([]);
      expect(await store.list()).toEqual([]);
      expect(readdirSync(store.trashDir)).toEqual([]);
    }
  });

  it('reads a waiting recording’s manifest once: later sweeps before its deadline read none, and it still goes at the deadline', async () => {
    const t = await setup();
    for (const id of ['w1', 'w2', 'w3']) await t.store.create(recordingFixture({ recordingId: id, captureDir: t.ctx.captureDir, seconds: 1, startedAt: t.now(), retentionMs: 10_000 }).manifest);
    const reads = vi.spyOn(t.store, 'readManifest');
    const first = await t.sweeper.sweepOnce();
    expect(reads).toHaveBeenCalledTimes(3);
    t.advance(9_000);
    const second = await t.sweeper.sweepOnce();
    expect(reads).toHaveBeenCalledTimes(3);
    expect([second.waiting, second.nextDueAt, second.oldestStartedAt]).toEqual([first.waiting, first.nextDueAt, first.oldestStartedAt]);
    expect(second.waiting).toBe(3);
    t.advance(1_000);
    expect((await t.sweeper.sweepOnce()).deleted.sort()).toEqual(['w1', 'w2', 'w3']);
    expect(await t.store.list()).toEqual([]);
  });

  it('keeps tombstones at least one retention period, then deletes a past day’s as one directory (and an older spool’s flat ones one by one)', async () => {
    const t = await setup();
    const day = 86_400_000;
    const at = (ms: number): string => new Date(ms).toISOString();
    await t.store.writeTombstone({ recordingId: 'old', callId: 'c1', state: 'delivered', at: at(t.now() - 3 * day), parts: 1 });
    await t.store.writeTombstone({ recordingId: 'new', callId: 'c2', state: 'expired', at: at(t.now()) });
    writeFileSync(join(t.store.tombstonesDir, 'flat-old.json'), JSON.stringify({ recordingId: 'flat-old', callId: 'c3', state: 'delivered', at: at(t.now() - 3 * day) }));
    writeFileSync(join(t.store.tombstonesDir, 'flat-new.json'), JSON.stringify({ recordingId: 'flat-new', callId: 'c4', state: 'delivered', at: at(t.now()) }));
    const threeDaysAgo = new Date(t.now() - 3 * day);
    utimesSync(join(t.store.tombstonesDir, 'flat-old.json'), threeDaysAgo, threeDaysAgo);
    expect(readdirSync(t.store.tombstonesDir).sort()).toEqual([at(t.now() - 3 * day).slice(0, 10), at(t.now()).slice(0, 10), 'flat-new.json', 'flat-old.json'].sort());
    for (const id of ['old', 'new', 'flat-old', 'flat-new']) expect((await t.store.readTombstone(id))?.recordingId).toBe(id);

    await t.sweeper.sweepOnce();
    // retention 10 s: the day three days back is over by more than that; today is not over
    expect(await t.store.readTombstone('old')).toBeUndefined();
    expect(await t.store.readTombstone('flat-old')).toBeUndefined();
    expect((await t.store.readTombstone('new'))?.state).toBe('expired');
    expect((await t.store.readTombstone('flat-new'))?.state).toBe('delivered');
    expect(await t.store.tombstoneDays()).toEqual([at(t.now()).slice(0, 10)]);
  });
});
