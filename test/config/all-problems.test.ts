/**
 * One run lists every problem: the semantic checks run even when the schema
 * found problems elsewhere (or in the same section), and never reason from a
 * value the schema refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigFile, loadConfigText, type ConfigCheck } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { EXPECTED, MANY_PROBLEMS } from './many-problems.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function errorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('the configuration was accepted');
}

const lines = (e: ConfigError): string[] => e.problems.map((p) => `${p.path}: ${p.message}`);

describe('one run reports every problem', () => {
  it('schema errors and the semantic problems of the same sections come in one ConfigError (loadConfigFile)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cfg-'));
    dirs.push(dir);
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, MANY_PROBLEMS);
    const got = lines(errorOf(() => loadConfigFile(f, { checks: configChecks })));
    for (const fragment of EXPECTED) expect(got.some((l) => l.includes(fragment)), `${fragment}\n in\n${got.join('\n')}`).toBe(true);
    expect(got).toHaveLength(EXPECTED.length);
  });

  it('a check never reasons from a value the schema refused', () => {
    const got = lines(
      errorOf(() =>
        loadConfigText(
          [
            'media: { rtpengine: { embedded: { portMin: 70000, portMax: 42000 } } }',
            'registrar: { minExpiresSeconds: "soon" }',
            'sipServer:',
            '  listen: [{ transport: udp, host: 127.0.0.1, port: 99999 }, { transport: udp, host: 127.0.0.1, port: 99999 }]',
            '  overload: { eventLoopLagEnterMs: 100, eventLoopLagLeaveMs: 200 }',
          ].join('\n'),
          { checks: configChecks },
        ),
      ),
    );
    // No port range "70000-42000", no expiry order, no two listeners on one port; the section's other problem is found.
    expect([...got].sort()).toEqual(
      [
        'media.rtpengine.embedded.portMin: expected a number <= 65535, got number 70000',
        'registrar.minExpiresSeconds: expected integer, got "soon"',
        'sipServer.listen[0].port: expected a number <= 65535, got number 99999',
        'sipServer.listen[1].port: expected a number <= 65535, got number 99999',
        'sipServer.overload.eventLoopLagLeaveMs: must be below eventLoopLagEnterMs (100), or the overload state would flap',
      ].sort(),
    );
  });

  it('a malformed overflow number hides neither an overflow loop nor an unknown overflow queue on other queues; a loop is one problem', () => {
    const got = lines(
      errorOf(() =>
        loadConfigText(
          [
            'trunks: { outbound: [{ id: gw, host: 127.0.0.1 }] }',
            'queues:',
            '  - { id: x, name: X, numbers: ["1"], waiting: { overflow: { option: phoneNumber, phoneNumber: "12" } } }',
            '  - { id: y, name: Y, numbers: ["2"], waiting: { overflow: { option: queue, queue: z } } }',
            '  - { id: z, name: Z, numbers: ["3"], waiting: { overflow: { option: queue, queue: y } } }',
            '  - { id: w, name: W, numbers: ["4"], waiting: { overflow: { option: queue, queue: nowhere } } }',
          ].join('\n'),
          { checks: configChecks },
        ),
      ),
    );
    expect(got).toEqual([
      'queues[0].waiting.overflow.phoneNumber: expected an E.164 number such as +15551234567 (+, then 2 to 15 digits, the first not 0), got "12"',
      'queues[3].waiting.overflow.queue: no queue "nowhere"',
      'queues[1].waiting.overflow.queue: overflow loops: y → z → y',
    ]);
  });

  it('a problem with a secret (a password, key, token or shared secret) says what is wrong without repeating the value', () => {
    const text = [
      'recordings: { encryption: { key: "q3X9mJ2vL8pR4tY7wZ1aB5cD6eF0gH2iK4lM6nO8pQ=" } }',
      'trunks: { outbound: [{ id: c, host: 127.0.0.1, username: u, password: 7731946 }] }',
      'crm: { adapter: http, http: { url: "http://127.0.0.1:1/x", authValue: 55443322 } }',
      'sipServer: { control: { secret: 987654321 } }',
      'agents: [{ id: ann, name: Ann, password: 424242, queues: [] }]',
    ].join('\n');
    const e = errorOf(() => loadConfigText(text, { checks: configChecks }));
    const got = lines(e);
    for (const secret of ['q3X9mJ2vL8pR4tY7wZ1aB5cD6eF0gH2iK4lM6nO8pQ', '7731946', '55443322', '987654321', '424242']) {
      expect(e.message).not.toContain(secret);
    }
    expect(got).toEqual(
      expect.arrayContaining([
        'trunks.outbound[0].password: expected string, got a number of 7 digits (not shown: a secret; quote it to make it a string)',
        expect.stringMatching(/^recordings\.encryption\.key: expected a 256-bit key in base64 .*got a string of 43 characters \(not shown: a secret\)$/),
        expect.stringMatching(/^crm\.http\.authValue: expected string, got a number of 8 digits/),
        expect.stringMatching(/^sipServer\.control\.secret: expected string, got a number of 9 digits/),
        expect.stringMatching(/^agents\[0\]\.password: expected string, got a number of 6 digits/),
      ]),
    );
  });

  it('a check that throws is reported as a problem and does not hide the others', () => {
    const broken: ConfigCheck = {
      name: 'broken',
      sections: ['queues'],
      check() {
        throw new TypeError('boom');
      },
    };
    const got = lines(errorOf(() => loadConfigText('queues: [{ id: q, name: Q, numbers: ["1"] }, { id: r, name: R, numbers: ["1"] }]\n', { checks: [broken, ...configChecks] })));
    expect(got).toEqual([': the check "broken" failed (boom); this is a bug, please report it', 'queues[1].numbers[0]: number "1" already selects queue "q"; a number may select only one queue']);
  });
});
