import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/support/slow-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file (one process each) claims a block of ports no other test process uses: test/support/ports.ts.
    setupFiles: ['test/support/port-block-setup.ts'],
    // Bounds for a busy two-core machine (another CPU-heavy process running): tests that stream real
    // media or start daemons take several times longer there than on an idle one (test/README.md).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tests start real daemons (rtpengine, redis-server, SIPp);
    // two cores, so keep parallelism modest.
    maxWorkers: 2,
    // The slowest files start first, so no long file runs alone at the end (test/support/slow-first-sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default'],
  },
});
