/** The test port range (test/support/ports.ts): 10000–31999 by default, or SWITCHBOARD_TEST_PORTS for a host that gave out another. */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

async function rangeWith(value: string | undefined): Promise<{ first: number; end: number; block: number }> {
  vi.resetModules();
  vi.stubEnv('SWITCHBOARD_TEST_PORTS', value);
  const m = await import('./ports.js');
  return { first: m.TEST_PORT_FIRST, end: m.TEST_PORT_END, block: m.BLOCK_SIZE };
}

describe('the test port range', () => {
  it('is 10000-31999 in blocks of 2,000 unless SWITCHBOARD_TEST_PORTS names another', async () => {
    expect(await rangeWith(undefined)).toEqual({ first: 10_000, end: 32_000, block: 2_000 });
    expect(await rangeWith('7300-8199')).toEqual({ first: 7300, end: 8200, block: 900 });
    expect(await rangeWith('40000-49999')).toEqual({ first: 40_000, end: 50_000, block: 2_000 });
  });

  it.each(['7300', '8199-7300', '7300-7350', '80-2000', 'a-b'])('refuses %s with what it expects', async (value) => {
    await expect(rangeWith(value)).rejects.toThrow(/SWITCHBOARD_TEST_PORTS must be FIRST-LAST, at least 200 ports/);
  });
});
