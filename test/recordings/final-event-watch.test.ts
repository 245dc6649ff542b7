/**
 * Following recordings to their end from another process (what the drain
 * does): the events appended to the file after the watch opened count, a file
 * truncated in place (copytruncate) is read again from its start, a line
 * still being written waits for its end, the process's own events count; the
 * wait returns what had not ended at its limit or when aborted.
 */
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { FinalEventWatch } from '../../src/recordings/events/final-event-watch.js';
import { RecordingEvents } from '../../src/recordings/events/recording-events.js';
import { eventually } from '../support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-rec-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (type: string, recordingId: string, reason = ''): string => `${JSON.stringify({ type, recordingId, at: new Date().toISOString(), reason })}\n`;

describe('watching for recordings to end', () => {
  it('counts uploaded, failed and expired appended after it opened, across a truncation and a line written in two pieces', async () => {
    const file = join(dir, 'a.jsonl');
    // What was there before (larger than what is appended after the rotation below) does not count.
    writeFileSync(file, line('uploaded', 'old', 'x'.repeat(4000)));
    const watch = await FinalEventWatch.open(file);
    const pending = watch.until(['old', 'r1', 'r2', 'r3'], { timeoutMs: 30_000, pollMs: 10 });
    appendFileSync(file, line('captured', 'r1') + line('converted', 'r1') + line('retrying', 'r2') + line('uploaded', 'r1'));
    await eventually(() => watch.finalState('r1') !== undefined, 10_000, 'r1 read');
    expect(watch.finalState('old')).toBeUndefined();
    // Rotated with copytruncate: the file starts again, smaller than what was read.
    truncateSync(file, 0);
    const last = Buffer.from(line('expired', 'r3'));
    appendFileSync(file, Buffer.concat([Buffer.from(line('failed', 'r2', 'CRM refused: 400 — ünïcode')), last.subarray(0, 10)]));
    await eventually(() => watch.finalState('r2') !== undefined, 10_000, 'r2 read');
    // The line being written is not taken for a whole one.
    expect(watch.finalState('r3')).toBeUndefined();
    appendFileSync(file, Buffer.concat([last.subarray(10), Buffer.from(line('uploaded', 'old'))]));
    expect(await pending).toEqual([]);
    expect(['old', 'r1', 'r2', 'r3'].map((id) => watch.finalState(id))).toEqual(['uploaded', 'uploaded', 'failed', 'expired']);
    watch.close();
  });

  it("hears this process's own events even when the file cannot be written", async () => {
    const events = new RecordingEvents(join(dir, 'no-such-dir', 'events.jsonl'), silentLogger());
    const watch = await FinalEventWatch.open(join(dir, 'no-such-dir', 'events.jsonl'), events);
    const pending = watch.until(['r9'], { timeoutMs: 30_000, pollMs: 10 });
    await events.emit({ type: 'failed', recordingId: 'r9', reason: 'never handed to the pipeline' });
    expect(await pending).toEqual([]);
    watch.close();
    await events.emit({ type: 'uploaded', recordingId: 'r10' });
    expect(watch.finalState('r10')).toBeUndefined();
  });

  it('returns what has not ended at the limit, or at once when aborted', async () => {
    const file = join(dir, 'b.jsonl');
    const watch = await FinalEventWatch.open(file);
    appendFileSync(file, line('uploaded', 'done') + line('retrying', 'slow'));
    expect(await watch.until(['done', 'slow'], { timeoutMs: 50, pollMs: 10 })).toEqual(['slow']);
    const stop = new AbortController();
    const waiting = watch.until(['slow'], { timeoutMs: 600_000, signal: stop.signal });
    stop.abort();
    expect(await waiting).toEqual(['slow']);
    watch.close();
  });
});
