import { describe, expect, it } from 'vitest';
import { loadConfigText, defaultConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

function problemsOf(yaml: string): string[] {
  try {
    loadConfigText(yaml, { file: 'x.yaml' });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.location ?? '?'} ${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('configuration loading', () => {
  it('an empty file is valid and gets every default', () => {
    const c = loadConfigText('');
    expect(c.sipServer.control.port).toBe(9022);
    expect(c.sipServer.timers.t1Ms).toBe(500);
    expect(c.queues).toEqual([]);
  });

  it('the result is deeply frozen', () => {
    const c = defaultConfig();
    expect(Object.isFrozen(c.sipServer.listen[0])).toBe(true);
  });

  it('one error lists every problem, each with its path and line', () => {
    const problems = problemsOf(
      [
        'node:',
        '  logLevl: info',
        'sipServer:',
        '  listen:',
        '    - transport: sctp',
        '      port: 99999',
        'queues:',
        '  - id: "bad id"',
        '    name: ""',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'x.yaml:2:3 node: unknown setting "logLevl" (did you mean "logLevel"?); allowed: stateDir, logLevel, recordingsWorker, status',
      'x.yaml:5:18 sipServer.listen[0].transport: expected one of: udp, tcp, tls, ws, wss; got "sctp"',
      'x.yaml:6:13 sipServer.listen[0].port: expected a number <= 65535, got number 99999',
      'x.yaml:8:9 queues[0].id: expected an identifier: a letter or digit, then up to 63 letters, digits, ".", "_" or "-", got "bad id"',
      'x.yaml:9:11 queues[0].name: must not be empty',
    ]);
  });

  it('a phone number written without quotes (YAML reads a number: its leading 0 is gone) is told to be quoted', () => {
    expect(problemsOf('queues:\n  - { id: q, name: Q, numbers: [0800123] }\n')).toEqual([
      'x.yaml:2:33 queues[0].numbers[0]: expected string, got number 800123; quote it ("...") to keep it as written: YAML reads unquoted digits as a number and drops a leading 0 or +',
    ]);
  });

  it('a duration past the longest a timer can wait (24.8 days) is refused, anywhere in the schema: "no limit" written as 30 days would end every call at once', () => {
    const problems = problemsOf(
      [
        'engine:',
        '  maxCallSeconds: 2592000',
        'api:',
        '  stuckCalls: { thresholdSeconds: 9999999 }',
        'recordings:',
        '  upload:',
        '    maxBackoffMs: 3000000000',
      ].join('\n'),
    );
    expect(problems.sort()).toEqual([
      'x.yaml:2:19 engine.maxCallSeconds: expected a number <= 2147483 (24.8 days: the longest a timer can wait), got number 2592000',
      'x.yaml:4:35 api.stuckCalls.thresholdSeconds: expected a number <= 2147483 (24.8 days: the longest a timer can wait), got number 9999999',
      'x.yaml:7:19 recordings.upload.maxBackoffMs: expected a number <= 2147483647 (24.8 days: the longest a timer can wait), got number 3000000000',
    ]);
    // The longest delay itself is taken, and a setting with a tighter maximum of its own keeps it (a queue's ring timeout: 600 s).
    expect(problemsOf('engine:\n  maxCallSeconds: 2147483\n')).toEqual([]);
    expect(problemsOf('sipServer:\n  timers:\n    t1Ms: 2147483000\n')).toEqual(['x.yaml:3:11 sipServer.timers.t1Ms: expected a number <= 60000, got number 2147483000']);
  });

  it('a missing required setting is named', () => {
    expect(problemsOf('queues:\n  - id: q1\n')).toEqual(['x.yaml:2:5 queues[0]: missing required setting "name"']);
  });

  it('YAML syntax errors are reported with their position', () => {
    const problems = problemsOf('node: [unclosed\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^x\.yaml:\d+:\d+ : YAML: /);
  });

  it('a top level that is not a mapping is refused', () => {
    expect(problemsOf('- 1\n- 2\n')).toEqual(['? : expected a mapping of settings at the top level']);
  });

  it('duplicate keys are a problem, not a silent override', () => {
    expect(problemsOf('node:\n  logLevel: info\n  logLevel: debug\n').join('\n')).toMatch(/unique/i);
  });
});
