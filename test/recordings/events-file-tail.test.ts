/**
 * Reading the recording events file from an offset: a backlog longer than one
 * read (1 MiB) is read a chunk at a time, every line whole, also one with a
 * multi-byte character cut by a chunk's end; a run of more than 1 MiB with no
 * line end (a corrupt file) is dropped and the lines after it still count.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventsFileTail, type EventLine } from '../../src/recordings/events/events-file-tail.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number, reason = ''): string => `${JSON.stringify({ type: 'uploaded', recordingId: `r${i}`, reason })}\n`;

async function readAll(tail: EventsFileTail): Promise<EventLine[]> {
  const got: EventLine[] = [];
  await tail.read((e) => got.push(e));
  return got;
}

describe('the events file tail', () => {
  it('reads a backlog of several MiB line by line, a multi-byte character across a chunk end included', async () => {
    const file = join(dir, 'backlog.jsonl');
    writeFileSync(file, '');
    const tail = await EventsFileTail.fromEnd(file);
    // Lines of ~1000 bytes with "é" (2 bytes in UTF-8) throughout: some chunk end falls inside one.
    const lines = Array.from({ length: 3500 }, (_, i) => line(i, 'é'.repeat(480)));
    appendFileSync(file, lines.join(''));
    const got = await readAll(tail);
    expect(got).toHaveLength(3500);
    expect(got.map((e) => e.recordingId)).toEqual(lines.map((_, i) => `r${i}`));
    expect(await readAll(tail)).toEqual([]);
  });

  it('drops a run of more than 1 MiB without a line end, and reads the lines after it', async () => {
    const file = join(dir, 'corrupt.jsonl');
    writeFileSync(file, '');
    const tail = await EventsFileTail.fromEnd(file);
    appendFileSync(file, line(1) + 'x'.repeat(3 * 1024 * 1024) + '\n' + line(2) + line(3));
    expect((await readAll(tail)).map((e) => e.recordingId)).toEqual(['r1', 'r2', 'r3']);
  });
});
