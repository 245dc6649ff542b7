/** The `sipServer` section's checks beyond the schema: overload hysteresis, method and media-type syntax. */
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

function problems(yaml: string): string[] {
  try {
    loadConfigText(yaml, { checks: configChecks });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => p.path);
    throw e;
  }
}

describe('sipServer configuration', () => {
  it('defaults: overload on, rate limit off, scanners dropped, INVITE and UPDATE bodies are SDP', () => {
    const c = loadConfigText('', { checks: configChecks }).sipServer;
    expect(c.overload).toMatchObject({ enabled: true, eventLoopLagEnterMs: 150, eventLoopLagLeaveMs: 40, retryAfterSeconds: 5 });
    expect(c.rateLimit.perSourcePerSecond).toBe(0);
    expect(c.scanners.action).toBe('drop');
    expect(c.scanners.userAgents).toContain('friendly-scanner');
    expect(c.uas.bodyTypes).toEqual([{ methods: ['INVITE', 'UPDATE'], types: ['application/sdp'] }]);
  });

  it('every leave level must be below its enter level, all reported at once', () => {
    expect(problems('sipServer: { overload: { eventLoopLagEnterMs: 50, eventLoopLagLeaveMs: 50, cpuEnterPercent: 80, cpuLeavePercent: 90 } }\n')).toEqual([
      'sipServer.overload.eventLoopLagLeaveMs',
      'sipServer.overload.cpuLeavePercent',
    ]);
    // With the CPU criterion off its leave level does not matter.
    expect(problems('sipServer: { overload: { cpuEnterPercent: 0, cpuLeavePercent: 90 } }\n')).toEqual([]);
  });

  it('methods are tokens and body types type/subtype; the scanner action is drop or reject', () => {
    const bad = problems(
      ['sipServer:', '  uas: { allowMethods: ["IN VITE"], bodyTypes: [{ methods: [INVITE], types: [sdp] }] }', '  scanners: { action: ignore }', ''].join('\n'),
    );
    expect(bad).toEqual(expect.arrayContaining(['sipServer.uas.allowMethods[0]', 'sipServer.uas.bodyTypes[0].types[0]', 'sipServer.scanners.action']));
  });
});
