/** config/examples/contact-center-hours.yaml: valid, and it behaves as its comments say; the README's hours example too. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { commands } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { loadConfigFile } from '../../src/config/load.js';
import { createPolicy } from '../../src/policy/index.js';

const file = resolve(import.meta.dirname, '../../config/examples/contact-center-hours.yaml');

describe('the multi-queue, multi-zone example', () => {
  it('loads with every configuration check of the application', () => {
    const config = loadConfigFile(file, { checks: configChecks });
    expect(config.schedules.map((s) => s.timeZone)).toEqual(['America/New_York', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'America/Chicago']);
    expect(config.queues.length).toBe(12);
  });

  it('switchboard check-config accepts it', async () => {
    let out = '';
    const stdout = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    const code = await runCli(commands, ['check-config', '--config', file], { stdout, stderr: stdout, cwd: process.cwd() });
    expect(code).toBe(0);
    expect(out).toMatch(/OK \(12 queues\)/);
  });

  it('German callers get the Berlin desk hours; the overnight team covers New York nights', () => {
    const policy = createPolicy(loadConfigFile(file, { checks: configChecks }));
    const at = new Date('2026-06-08T19:00:00+02:00'); // Monday 13:00 in New York, 19:00 in Berlin
    expect(policy.decide({ queue: 'tech-us', channel: 'ivr', at })).toMatchObject({ open: true, schedule: { id: 'new-york' } });
    expect(policy.decide({ queue: 'tech-us', channel: 'ivr', language: 'de', at })).toMatchObject({ open: false, schedule: { id: 'berlin', scope: 'hours.languages.de' } });
    const night = new Date('2026-06-09T03:00:00-04:00');
    expect(policy.decide({ queue: 'overnight', channel: 'ivr', at: night })).toMatchObject({ open: true, closesAt: '2026-06-09T08:00:00-04:00' });
  });
});

describe("the README's hours example", () => {
  it('is a whole configuration: `policy decide --config hours.yaml` prints what the README shows', async () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Hours of operation and after-hours deflection'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const file = join(mkdtempSync(join(tmpdir(), 'hours-')), 'hours.yaml');
    writeFileSync(file, yaml);
    let out = '';
    const stdout = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    const args = ['policy', 'decide', '--config', file, '--queue', 'billing', '--channel', 'ivr', '--at', '2026-12-25T10:00:00-05:00'];
    expect(await runCli(commands, args, { stdout, stderr: stdout, cwd: process.cwd() }), out).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ open: false, action: 'phoneNumber', reason: 'exception', nextOpen: '2026-12-28T08:00:00-05:00', exception: { name: 'Christmas Day' } });
  });
});
