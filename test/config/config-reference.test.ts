import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../src/config/reference.js';

describe('docs/config-reference.md', () => {
  it('matches the schema (regenerate with: node dist/src/cli/main.js config-reference --out docs/config-reference.md)', () => {
    const committed = readFileSync(resolve(import.meta.dirname, '../../docs/config-reference.md'), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });
});
