/**
 * A validated configuration for media-plane integration tests: its own state
 * directory, an embedded rtpengine on loopback with free ng/CLI ports and a
 * random RTP port range, and only the prompts a test needs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject, type SwitchboardConfig } from '../../src/config/load.js';
import { promptFilesCheck } from '../../src/media/media-config-checks.js';
import { randomPortRange } from '../support/rtp/rtpengine-harness.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Deep-merges plain objects (arrays and scalars of `b` replace those of `a`). */
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof prev === 'object' && prev !== null && !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** `checkFiles: false` leaves out the check that uploaded prompt files exist (tests of settings that name files never read). */
export function mediaTestConfig(stateDir: string, overrides: Record<string, unknown> = {}, options: { checkFiles?: boolean } = {}): SwitchboardConfig {
  // The RTP range comes from this process's port block; reserved only when the overrides choose none.
  const chosen = (overrides as { media?: { rtpengine?: { embedded?: { portMin?: unknown } } } }).media?.rtpengine?.embedded?.portMin;
  const base = {
    node: { stateDir, logLevel: 'silent' },
    media: {
      rtpengine: { embedded: { ...(chosen === undefined ? randomPortRange() : {}), logLevel: 6, threads: 2 } },
      whisper: { callTypes: { inbound: 'Inbound call' } },
    },
    queues: [{ id: 'sales', name: 'Sales' }],
  };
  const checks = options.checkFiles === false ? configChecks.filter((c) => c !== promptFilesCheck) : configChecks;
  return loadConfigObject(merge(base, overrides), { checks });
}
