/**
 * The journal of live calls: what a run that died left live comes back as
 * final records (ended when the journal was last written, "engine stopped
 * unexpectedly"), calls that ended do not; the file is replaced by a small one
 * past its size, and a clean stop leaves none.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { CallRecord } from '../../src/engine/call-record.js';
import { LiveCallJournal, RECOVERED_END_REASON } from '../../src/engine/live-call-journal.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';

/** When set, each heartbeat touch calls it and waits for what it returns: a touch held in flight by the test. */
let onTouch: (() => Promise<void>) | undefined;
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  return {
    ...real,
    utimes: async (...args: Parameters<typeof real.utimes>) => {
      if (onTouch !== undefined) await onTouch();
      return real.utimes(...args);
    },
  };
});

const root = mkdtempSync(join(tmpdir(), 'sb-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function record(call: string, bridged: string | null = null): CallRecord {
  return {
    version: 1,
    call,
    sipCallId: `${call}@carrier`,
    caller: { number: '+15550100', name: null, withheld: false, contact: '+15550100' },
    dialed: '1000',
    source: { address: '127.0.0.1', port: 5060, transport: 'udp' },
    trunk: { id: null, name: null, trusted: false },
    reservedData: {},
    reservedDataSetBy: {},
    callerAttestation: null,
    crmTicket: null,
    dataParameters: null,
    language: 'en',
    queuePath: ['sales'],
    decisions: [],
    deflection: null,
    agentsTried: [],
    agent: bridged === null ? null : 'ann',
    times: { arrived: '2026-12-07T01:00:00.000Z', answered: bridged, agentAnswered: bridged, bridged, ended: null },
    metrics: { queueMs: 0, whisperMs: 0, waitMs: 0, talkMs: 0, holdMs: 0 },
    endReason: null,
    endedBy: null,
    recordings: [],
    facts: {},
  } as unknown as CallRecord;
}

describe('the live call journal', () => {
  it('a run that dies: its live calls come back with their last record, ended when the journal was last written; ended calls do not; the old files go', async () => {
    const dir = join(root, 'died');
    // (no heartbeat within the test: the file times set below stay as set)
    const first = new LiveCallJournal(dir, silentLogger(), 600, 3_600_000);
    expect(await first.recover()).toEqual([]);
    for (let i = 0; i < 5; i++) first.update(record(`c${i}`));
    first.update(record('c1', '2026-12-07T01:00:05.000Z'));
    for (const c of ['c0', 'c2', 'c3']) first.ended(c);
    first.ended('never-journaled');
    // Not closed: the process dies here, once the kernel has what was written.
    const written = (): string => readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    await eventually(() => written().includes('{"ended":"c3"}'), 5000, 'the journal written');
    // Rotated past 600 bytes: once a new file holds the live calls, the older ones go (removed a moment later, after a write).
    await eventually(() => readdirSync(dir).length === 1, 5000, 'one journal file left');
    const files = readdirSync(dir);
    const last = join(dir, files.sort().at(-1)!);
    appendFileSync(last, '{"live": {"call": "half-writ');
    const diedAt = new Date('2026-12-07T01:07:00.000Z');
    // The file's time has a fraction of a millisecond (the kernel keeps nanoseconds): the record's times and metrics are whole milliseconds.
    const diedAtSeconds = diedAt.getTime() / 1000 + 0.0004;
    for (const f of readdirSync(dir)) utimesSync(join(dir, f), diedAtSeconds, diedAtSeconds);

    const second = new LiveCallJournal(dir, silentLogger(), 600, 3_600_000);
    const lost = await second.recover();
    expect(lost.map((r) => r.call).sort()).toEqual(['c1', 'c4']);
    const c1 = lost.find((r) => r.call === 'c1')!;
    expect(c1).toMatchObject({ agent: 'ann', endReason: RECOVERED_END_REASON, endedBy: 'engine', facts: { recovered: true }, times: { bridged: '2026-12-07T01:00:05.000Z', ended: diedAt.toISOString() } });
    // wait and talk counted to that end
    expect(c1.metrics).toMatchObject({ waitMs: 5000, talkMs: 7 * 60_000 - 5000 });
    expect(lost.find((r) => r.call === 'c4')!.metrics).toMatchObject({ waitMs: 7 * 60_000, talkMs: 0 });
    expect(readdirSync(dir)).toEqual([]);
    expect(await second.recover()).toEqual([]);
  });

  it('a journal file gone between the listing and the reading (removed by a journal that moved on) is skipped, not fatal to the start', async () => {
    const dir = join(root, 'vanished');
    const writer = new LiveCallJournal(dir, silentLogger(), 100_000);
    writer.update(record('kept'));
    await eventually(() => readdirSync(dir).length === 1 && readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8').includes('kept'), 5000, 'the journal written');
    // Listed like a journal file, but nothing to read there (a dangling link stands for the removal in between).
    symlinkSync(join(dir, 'gone'), join(dir, 'journal-1.jsonl'));
    const lost = await new LiveCallJournal(dir, silentLogger(), 100_000).recover();
    expect(lost.map((r) => r.call)).toEqual(['kept']);
    await writer.close();
  });

  it('a file past its size is replaced by one that starts with the calls still live; a clean stop leaves no file', async () => {
    const dir = join(root, 'rotating');
    const j = new LiveCallJournal(dir, silentLogger(), 2000);
    j.update(record('long'));
    for (let i = 0; i < 40; i++) {
      j.update(record(`short${i}`));
      j.ended(`short${i}`);
    }
    await eventually(() => readdirSync(dir).length === 1 && readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8').includes('{"ended":"short39"}'), 5000, 'one file, written');
    const files = readdirSync(dir);
    const lines = readFileSync(join(dir, files[0]!), 'utf8').trim().split('\n');
    // It starts with the long call, still live, then holds only the lines written since it was made.
    expect(JSON.parse(lines[0]!)).toMatchObject({ live: { call: 'long' } });
    expect(lines.join('\n').length).toBeLessThan(2 * 2000);
    j.ended('long');
    await j.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a close right after a rotation returns once the older files are gone, and a closed journal writes nothing more', async () => {
    const dir = join(root, 'closed');
    const j = new LiveCallJournal(dir, silentLogger(), 600);
    j.update(record('long'));
    await eventually(() => readdirSync(dir).length === 1, 5000, 'the first file');
    // Past the size: the next line starts a new file, and the older one is removed once the new one holds the live calls.
    for (let i = 0; i < 4; i++) j.update(record(`short${i}`));
    await j.close();
    expect(readdirSync(dir)).toHaveLength(1);
    const kept = readdirSync(dir)[0]!;
    j.update(record('after-close'));
    j.ended('long');
    await new Promise((r) => setImmediate(r));
    expect(readdirSync(dir)).toEqual([kept]);
    expect(readFileSync(join(dir, kept), 'utf8')).not.toContain('after-close');
  });

  it('a journal that cannot be written (its folder gone, a full disk) starts a new file with the live calls once it can; calls that ended meanwhile do not come back', async () => {
    const dir = join(root, 'outage');
    const j = new LiveCallJournal(dir, silentLogger(), 4096, 3_600_000, 20);
    j.update(record('before'));
    j.update(record('ends-in-outage'));
    await eventually(() => readdirSync(dir).length === 1 && readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8').includes('ends-in-outage'), 5000, 'the journal written');
    // The folder becomes unwritable (here: a file in its place): the next file cannot be made.
    renameSync(dir, `${dir}.kept`);
    writeFileSync(dir, '');
    for (let i = 0; i < 200; i++) j.update(record(`filler${i}`)); // past its size: a new file is due, and fails
    for (let i = 0; i < 200; i++) j.ended(`filler${i}`);
    j.ended('ends-in-outage');
    j.update(record('during', '2026-12-07T01:00:05.000Z'));
    // Writable again: the folder back, with the file from before the outage (it still says ends-in-outage is live).
    rmSync(dir);
    renameSync(`${dir}.kept`, dir);
    const stale = readdirSync(dir)[0]!;
    await new Promise((r) => setTimeout(r, 30));
    j.update(record('after'));
    await eventually(() => readdirSync(dir).length === 1 && readdirSync(dir)[0] !== stale && readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8').includes('"after"'), 5000, 'a new file with the live calls, the stale one gone');
    // The engine dies here: the next start recovers exactly the calls live at that moment.
    const lost = await new LiveCallJournal(dir, silentLogger(), 4096, 3_600_000).recover();
    expect(lost.map((r) => r.call).sort()).toEqual(['after', 'before', 'during']);
    expect(lost.find((r) => r.call === 'during')!.times.bridged).toBe('2026-12-07T01:00:05.000Z');
    await j.close();
  });

  it('while calls are live the file is touched, so it tells when the engine was last alive; a recovered end is never before a time its record holds', async () => {
    const dir = join(root, 'heartbeat');
    const j = new LiveCallJournal(dir, silentLogger(), 4096, 20);
    j.update(record('talking', '2026-12-07T01:00:05.000Z'));
    await eventually(() => readdirSync(dir).length === 1 && readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8').includes('talking'), 5000, 'the journal written');
    const file = join(dir, readdirSync(dir)[0]!);
    const past = new Date('2026-12-07T01:00:00.000Z');
    utimesSync(file, past, past);
    await eventually(() => statSync(file).mtimeMs > Date.now() - 60_000, 5000, 'the file touched again');
    // The engine stops with the call live (the file stays), the file's time (kept coarsely by the kernel) before the record's bridge.
    await j.close();
    const early = new Date('2026-12-07T01:00:04.996Z');
    utimesSync(file, early, early);
    const [rec] = await new LiveCallJournal(dir, silentLogger(), 4096, 3_600_000).recover();
    expect(rec!.times.ended).toBe('2026-12-07T01:00:05.000Z');
    expect(rec!.metrics).toMatchObject({ waitMs: 5000, talkMs: 0 });
  });

  it('a close waits for a touch in flight, so nothing changes the file after the journal is closed', async () => {
    const dir = join(root, 'touch-in-flight');
    const j = new LiveCallJournal(dir, silentLogger(), 4096, 10);
    j.update(record('talking', '2026-12-07T01:00:05.000Z'));
    await eventually(() => readdirSync(dir).length === 1, 5000, 'the journal written');
    const file = join(dir, readdirSync(dir)[0]!);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let touches = 0;
    onTouch = () => {
      touches += 1;
      return held;
    };
    try {
      await eventually(() => touches > 0, 5000, 'a touch begun');
      let closed = false;
      const closing = j.close().then(() => {
        closed = true;
      });
      // Before the fix the close was over at once, with the touch still to come.
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(false);
      release();
      await closing;
    } finally {
      onTouch = undefined;
      release();
    }
    const set = new Date('2026-12-07T01:00:09.000Z');
    utimesSync(file, set, set);
    await new Promise((r) => setTimeout(r, 50));
    expect(statSync(file).mtimeMs).toBe(set.getTime());
  });
});
