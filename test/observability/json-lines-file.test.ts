/**
 * The JSON-lines files (call records, audit log) through faults (probe AA F2, F3): a full disk
 * (writes to /dev/full fail with ENOSPC) keeps the lines in order and writes them once the file can
 * be written again; a line cut short is ended before the next; a rotation by rename is followed on
 * reopen().
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonLinesFile } from '../../src/observability/json-lines-file.js';
import { createLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';

const root = mkdtempSync(join(tmpdir(), 'sb-jsonl-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function logged(): { logger: ReturnType<typeof createLogger>; lines: { level: number; msg: string; dropped?: number }[] } {
  const lines: { level: number; msg: string }[] = [];
  return { logger: createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) } }), lines };
}

const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

describe('a JSON-lines file', () => {
  it('a full disk keeps the lines, in order, and writes them once it can; the outage is logged once each way', async () => {
    const file = join(root, 'full', 'records.jsonl');
    const { logger, lines } = logged();
    const out = new JsonLinesFile(file, logger, { what: 'call records', retryMs: 20 });
    expect(out.append('{"n":1}')).toBe(true);
    // The disk fills: the path now leads to a device that takes nothing (ENOSPC).
    renameSync(file, `${file}.before`);
    symlinkSync('/dev/full', file);
    out.reopen();
    expect(out.append('{"n":2}')).toBe(false);
    expect(out.append('{"n":3}')).toBe(false);
    expect(out.waiting).toBe(2);
    expect(out.written).toBe(1);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/^call records file cannot be written/);
    // Space again: the retry writes what waited, with no new line needed to set it off.
    unlinkSync(file);
    renameSync(`${file}.before`, file);
    await eventually(() => out.waiting === 0, 5000, 'the waiting lines written');
    expect(linesOf(file)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(out.written).toBe(3);
    expect(lines.filter((l) => l.level === 40 && /written again/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1);
    out.close();
  });

  it('a line cut short (a crash, a failed write) is ended before the next one, which stays whole', () => {
    const file = join(root, 'torn.jsonl');
    writeFileSync(file, '{"n":1}\n{"n":2,"tr');
    const out = new JsonLinesFile(file, logged().logger, { what: 'call records' });
    out.append('{"n":3}');
    out.close();
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2,"tr\n{"n":3}\n');
  });

  it('rotated by rename, then reopen(): the next lines go to a new file at the path', () => {
    const file = join(root, 'rotated.jsonl');
    const out = new JsonLinesFile(file, logged().logger, { what: 'audit log', mode: 0o600 });
    out.append('{"n":1}');
    renameSync(file, `${file}.1`);
    out.append('{"n":2}', true);
    out.reopen();
    out.append('{"n":3}');
    out.close();
    expect(linesOf(`${file}.1`)).toEqual(['{"n":1}', '{"n":2}']);
    expect(linesOf(file)).toEqual(['{"n":3}']);
  });

  it('a long outage keeps at most maxPending lines (the newest), and says how many it dropped', async () => {
    const file = join(root, 'long.jsonl');
    symlinkSync('/dev/full', file);
    const { logger, lines } = logged();
    const out = new JsonLinesFile(file, logger, { what: 'call records', maxPending: 3, retryMs: 3_600_000 });
    for (let n = 1; n <= 5; n++) out.append(`{"n":${n}}`);
    expect(out.waiting).toBe(3);
    unlinkSync(file);
    out.append('{"n":6}');
    out.close();
    expect(existsSync(file)).toBe(true);
    expect(linesOf(file)).toEqual(['{"n":4}', '{"n":5}', '{"n":6}']);
    expect(lines.find((l) => /written again/.test(l.msg))).toMatchObject({ dropped: 3 });
  });
});
