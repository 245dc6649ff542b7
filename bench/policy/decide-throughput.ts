/**
 * How long policy decisions take (not part of the test run). Runs each case
 * for a fixed number of iterations over instants spread across a year and
 * prints the median per-call time of five rounds as JSON.
 *
 *   npx tsx bench/policy/decide-throughput.ts [--out bench/policy/results.json]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigFile } from '../../src/config/load.js';
import { createPolicy } from '../../src/policy/index.js';

const file = resolve(import.meta.dirname, '../../config/examples/contact-center-hours.yaml');
const policy = createPolicy(loadConfigFile(file, { checks: configChecks }));
const start = Date.UTC(2026, 0, 1);
const YEAR = 365 * 86_400_000;
const N = 2000;
// A fixed pseudo-random sequence so runs compare.
let seed = 42;
const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const instants = Array.from({ length: N }, () => start + Math.floor(next() * YEAR));

const cases: Record<string, (at: number) => unknown> = {
  'decide ivr (schedule + exceptions)': (at) => policy.decide({ queue: 'billing', channel: 'ivr', at }),
  'decide ivr, language schedule': (at) => policy.decide({ queue: 'tech-us', channel: 'ivr', language: 'de', at }),
  'decide mobile with scheduled-call slots': (at) => policy.decide({ queue: 'app-support', channel: 'mobile', at }),
  'transfer targets (7 candidate queues)': (at) => policy.transferTargets({ queue: 'billing', channel: 'ivr', at, loggedIn: ['tech-us'] }),
};

const results: Record<string, { medianMicroseconds: number; callsPerSecond: number }> = {};
for (const [name, fn] of Object.entries(cases)) {
  for (const at of instants.slice(0, 200)) fn(at); // warm up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (const at of instants) fn(at);
    rounds.push(((performance.now() - t0) * 1000) / N);
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[2]!;
  results[name] = { medianMicroseconds: Math.round(median * 10) / 10, callsPerSecond: Math.round(1e6 / median) };
}
const report = { node: process.version, icu: process.versions.icu, tz: process.versions.tz, iterations: N, results };
const outIndex = process.argv.indexOf('--out');
if (outIndex > 0 && process.argv[outIndex + 1] !== undefined) writeFileSync(process.argv[outIndex + 1]!, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
