/**
 * `sipServer.sessionTimers`: schema defaults (RFC 4028's 1800 s and Min-SE
 * 90 s), the checks the schema cannot express (one error listing every
 * problem), and the mapping onto the server's options.
 */
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { sipServerOptions } from '../../src/sip-server/options-from-config.js';

function problemsOf(yaml: string): string[] {
  try {
    loadConfigText(yaml, { file: 'x.yaml', checks: configChecks });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('sipServer.sessionTimers', () => {
  it('defaults: enabled, 1800 s asked for, 90 s minimum; mapped onto the server options', () => {
    const c = loadConfigText('', { checks: configChecks });
    expect(c.sipServer.sessionTimers).toEqual({ enabled: true, defaultSeconds: 1800, minSeconds: 90 });
    expect(sipServerOptions(c.sipServer, silentLogger()).sessionTimers).toEqual({ enabled: true, defaultSeconds: 1800, minSeconds: 90 });
  });

  it('a default below the minimum and a minimum shorter than a refresh transaction can take are both reported', () => {
    const problems = problemsOf(['sipServer:', '  timers:', '    t1Ms: 500', '  sessionTimers:', '    defaultSeconds: 10', '    minSeconds: 20'].join('\n'));
    expect(problems).toEqual([
      'sipServer.sessionTimers.defaultSeconds: must be at least minSeconds (20): we would ask for less than we accept',
      'sipServer.sessionTimers.minSeconds: must be at least 64·T1 (32 s) so a refresh transaction can finish within an interval',
    ]);
  });

  it('schema limits: whole seconds, at least 1; unknown keys refused', () => {
    const problems = problemsOf(['sipServer:', '  sessionTimers:', '    defaultSeconds: 0', '    minSeconds: 1.5', '    refresher: uac'].join('\n'));
    expect(problems.some((p) => p.startsWith('sipServer.sessionTimers.defaultSeconds'))).toBe(true);
    expect(problems.some((p) => p.startsWith('sipServer.sessionTimers.minSeconds'))).toBe(true);
    expect(problems.some((p) => p.includes('refresher'))).toBe(true);
  });

  it('disabled timers need no consistency with T1, and short test values pass with a short T1', () => {
    expect(problemsOf(['sipServer:', '  sessionTimers:', '    enabled: false', '    defaultSeconds: 2', '    minSeconds: 2'].join('\n'))).toEqual([]);
    expect(problemsOf(['sipServer:', '  timers:', '    t1Ms: 25', '  sessionTimers:', '    defaultSeconds: 6', '    minSeconds: 2'].join('\n'))).toEqual([]);
  });
});
