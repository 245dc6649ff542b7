/**
 * `switchboard policy decide | transfer-targets | slots`, run in-process with
 * captured streams, and once through the built binary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { ExitCodes, runCli } from '../../src/cli/run.js';

const root = resolve(import.meta.dirname, '../..');
const example = join(root, 'config/examples/contact-center-hours.yaml');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(commands, argv, { stdout, stderr, cwd: root });
  return { code, out: stdout.text, err: stderr.text };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-policy-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('switchboard policy decide', () => {
  it('prints the decision as one JSON object: closed on Christmas Day, voicemail, next opening with its offset', async () => {
    const r = await run('policy', 'decide', '--config', example, '--queue', 'billing', '--channel', 'ivr', '--at', '2026-12-25T10:00:00-05:00');
    expect(r.code).toBe(ExitCodes.OK);
    expect(r.err).toBe('');
    const d = JSON.parse(r.out) as Record<string, unknown>;
    expect(d).toMatchObject({
      open: false,
      action: 'voicemail',
      target: { queue: 'billing', deliverTo: 'queue-agents', notifyAt: '2026-12-26T09:00:00-05:00' },
      message: null,
      nextOpen: '2026-12-26T09:00:00-05:00',
      reason: 'exception',
      exception: { folder: 'us-holidays', name: 'Christmas Day' },
    });
  });

  it('open: the answer is enqueue with the next closing', async () => {
    const r = await run('policy', 'decide', '--config', example, '--queue', 'tech-de', '--channel', 'ivr', '--at', '2026-03-30T12:45:00+02:00');
    expect(JSON.parse(r.out)).toMatchObject({ open: false, nextOpen: '2026-03-30T13:30:00+02:00', action: 'phoneNumber', target: { phoneNumber: '+493012345678' } });
    const lunchOver = await run('policy', 'decide', '--config', example, '--queue', 'tech-de', '--channel', 'ivr', '--at', '2026-03-30T13:30:00+02:00');
    expect(JSON.parse(lunchOver.out)).toMatchObject({ open: true, action: 'enqueue', closesAt: '2026-03-30T18:00:00+02:00', nextOpen: null });
  });

  it('--language picks the language-specific hours and messages', async () => {
    const r = await run('policy', 'decide', '--config', example, '--queue', 'sms-care', '--channel', 'sms', '--language', 'de', '--at', '2026-06-07T23:00:00-05:00');
    expect(JSON.parse(r.out)).toMatchObject({ action: 'message', message: { kind: 'text', language: 'de' } });
  });

  const failures: [rule: string, argv: string[], code: number, message: RegExp][] = [
    ['an unknown queue is a failure naming the queue', ['--queue', 'biling', '--channel', 'ivr', '--at', '2026-01-01T00:00:00Z'], ExitCodes.FAILURE, /unknown queue "biling" \(did you mean "billing"\?\)/],
    ['a bad ISO time is a usage error', ['--queue', 'billing', '--channel', 'ivr', '--at', '2026-01-01 10:00'], ExitCodes.USAGE, /--at: "2026-01-01 10:00" is not an ISO-8601 instant/],
    ['a time without an offset is a usage error', ['--queue', 'billing', '--channel', 'ivr', '--at', '2026-01-01T10:00'], ExitCodes.USAGE, /has no UTC offset/],
    ['a bad channel is a usage error', ['--queue', 'billing', '--channel', 'fax', '--at', '2026-01-01T00:00:00Z'], ExitCodes.USAGE, /unknown channel "fax"; expected one of: ivr, mobile, web, sms, chat/],
    ['a missing --at is a usage error', ['--queue', 'billing', '--channel', 'ivr'], ExitCodes.USAGE, /missing --at/],
    ['a channel the queue does not serve is a failure', ['--queue', 'billing', '--channel', 'sms', '--at', '2026-01-01T00:00:00Z'], ExitCodes.FAILURE, /queue "billing" does not serve sms/],
    ['a bad language tag is a usage error', ['--queue', 'billing', '--channel', 'ivr', '--language', 'German', '--at', '2026-01-01T00:00:00Z'], ExitCodes.USAGE, /"German" is not a language tag/],
  ];
  for (const [rule, argv, code, message] of failures) {
    it(rule, async () => {
      const r = await run('policy', 'decide', '--config', example, ...argv);
      expect(r.code).toBe(code);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
    });
  }

  it('an invalid configuration exits 3 and lists every problem at once', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'schedules:\n  - id: s\n    timeZone: PST\n    weekly: { monday: [09:00-09:00] }\nqueues:\n  - { id: q, name: Q }\n');
    const r = await run('policy', 'decide', '--config', bad, '--queue', 'q', '--channel', 'ivr', '--at', '2026-01-01T00:00:00Z');
    expect(r.code).toBe(ExitCodes.CONFIG);
    expect(r.err).toContain('2 problems');
    expect(r.err).toContain('schedules[0].timeZone: "PST" is an abbreviation');
    expect(r.err).toContain('"09:00-09:00" is empty');
  });
});

describe('switchboard policy transfer-targets', () => {
  it('prints the visible queues (and the hidden ones with the rule that hides them)', async () => {
    const r = await run('policy', 'transfer-targets', '--config', example, '--queue', 'billing', '--at', '2026-07-04T03:00:00Z', '--logged-in', 'tech-us,tech-au');
    expect(r.code).toBe(ExitCodes.OK);
    const t = JSON.parse(r.out) as { visible: { queue: string; rule: string }[]; hidden: { queue: string; rule: string }[] };
    expect(t.visible.map((v) => [v.queue, v.rule])).toEqual([
      ['tech-us', 'outside-hours-deflection-enabled'],
      ['tech-de', 'outside-hours-deflection-enabled'],
      ['overnight', 'inside-hours'],
    ]);
    expect(t.hidden.map((v) => [v.queue, v.rule])).toEqual([['tech-au', 'outside-hours-virtual-agent-queue-hours']]);
  });

  it('a logged-in queue that is not a target is a usage error', async () => {
    const r = await run('policy', 'transfer-targets', '--config', example, '--queue', 'billing', '--at', '2026-07-04T03:00:00Z', '--logged-in', 'tech-uss');
    expect(r.code).toBe(ExitCodes.USAGE);
    expect(r.err).toMatch(/--logged-in: "tech-uss" is not a leaf queue serving ivr/);
  });
});

describe('switchboard policy slots', () => {
  it('prints the next scheduled-call slots', async () => {
    const r = await run('policy', 'slots', '--config', example, '--queue', 'app-support', '--at', '2026-03-07T22:00:00-05:00', '--count', '2');
    expect(JSON.parse(r.out)).toEqual({
      queue: 'app-support',
      channel: 'mobile',
      slots: [
        { start: '2026-03-09T08:00:00-04:00', end: '2026-03-09T08:20:00-04:00' },
        { start: '2026-03-09T08:20:00-04:00', end: '2026-03-09T08:40:00-04:00' },
      ],
    });
  });

  it('a bad count is a usage error', async () => {
    const r = await run('policy', 'slots', '--config', example, '--queue', 'app-support', '--at', '2026-03-07T22:00:00-05:00', '--count', 'many');
    expect(r.code).toBe(ExitCodes.USAGE);
  });
});

describe('the built binary', () => {
  const main = join(root, 'dist/src/cli/main.js');
  const newestSource = (): number => {
    const dirs = ['src/policy', 'src/policy/checks', 'src/cli/commands', 'src/config/schema'];
    return Math.max(...dirs.flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.ts')).map((f) => statSync(join(root, d, f)).mtimeMs)));
  };

  beforeAll(() => {
    let built = 0;
    try {
      built = statSync(main).mtimeMs;
    } catch {
      built = 0;
    }
    // `npm test` builds first; a stale or missing build is rebuilt here (type errors elsewhere still emit).
    if (built < newestSource()) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  }, 130_000);

  it('node dist/src/cli/main.js policy decide prints the same one JSON object and exits 0', () => {
    const r = spawnSync(process.execPath, [main, 'policy', 'decide', '--config', example, '--queue', 'tech-au', '--channel', 'ivr', '--at', '2026-10-05T09:30:00+11:00'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ open: true, action: 'enqueue', closesAt: '2026-10-05T17:00:00+11:00', schedule: { id: 'sydney' } });
  });

  it('node dist/src/cli/main.js policy decide with an unknown queue exits 1', () => {
    const r = spawnSync(process.execPath, [main, 'policy', 'decide', '--config', example, '--queue', 'nope', '--channel', 'ivr', '--at', 'now'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(ExitCodes.FAILURE);
    expect(r.stderr).toMatch(/unknown queue "nope"/);
  });
});
