import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigFile } from '../../src/config/load.js';

const root = resolve(import.meta.dirname, '../..');
const files = [join(root, 'config/default.yaml'), ...readdirSync(join(root, 'config/examples')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'config/examples', f))];

describe('shipped configuration files', () => {
  it.each(files)('%s passes the schema and every module check', (file) => {
    const config = loadConfigFile(file, { checks: configChecks });
    expect(config.queues.length).toBeGreaterThan(0);
  });
});
