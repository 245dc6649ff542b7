/**
 * The engine process's last resort (src/observability/last-resort.ts), in a
 * real child process: errors no code caught are logged and counted and the
 * process goes on; a stream of them ends it with exit code 70.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const fixture = join(import.meta.dirname, 'fixtures', 'stray-errors.ts');

function run(exceptions: number, rejections: number, maxErrors: number): { status: number | null; lines: Record<string, unknown>[]; stdout: string } {
  const r = spawnSync('npx', ['tsx', fixture, String(exceptions), String(rejections), String(maxErrors)], { encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, lines, stdout: r.stdout };
}

describe('last resort for errors no code caught', () => {
  it('logs each thrown exception and unawaited rejection with its stack, counts them, and the process goes on serving', () => {
    const r = run(2, 1, 5);
    expect(r.status).toBe(0);
    const errors = r.lines.filter((l) => l['level'] === 50);
    expect(errors.map((l) => l['kind'])).toEqual(['exception', 'exception', 'rejection']);
    expect(String(errors[0]!['err'])).toMatch(/^Error: thrown in a timer #0\n\s+at /);
    expect(String(errors[2]!['err'])).toMatch(/^Error: rejected with nobody waiting #0\n\s+at /);
    expect(r.stdout).toContain('switchboard_internal_errors_total{kind="exception"} 2');
    expect(r.stdout).toContain('switchboard_internal_errors_total{kind="rejection"} 1');
    expect(r.stdout).toContain('still serving');
  });

  it('errors that keep coming (more than the limit in the window) end the process with exit code 70 for its supervisor', () => {
    const r = run(4, 0, 3);
    expect(r.status).toBe(70);
    expect(r.lines.filter((l) => l['level'] === 50)).toHaveLength(3);
    const fatal = r.lines.find((l) => l['level'] === 60);
    expect(fatal).toMatchObject({ kind: 'exception', errors: 4, msg: expect.stringContaining('stopping the process') });
    expect(r.stdout).not.toContain('still serving');
  });
});
