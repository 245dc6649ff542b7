/**
 * The stuck-call sweeper on its own, with a stand-in list of live calls: a
 * call already ending (still listed while its resources are released) is not
 * ended and audited again, sweeps that overlap are one, and stop() returns
 * once a sweep in flight has ended its calls (nothing is audited after it).
 */
import { describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/api/audit/audit-log.js';
import { StuckCalls } from '../../src/api/stuck-calls.js';
import type { LiveCalls } from '../../src/api/views/live-calls.js';
import { silentLogger } from '../../src/observability/logger.js';

function rig(calls: { id: string; state: string; stuck: boolean }[]) {
  const audited: string[] = [];
  const ended: string[] = [];
  let finish: () => void = () => undefined;
  const ending = new Promise<void>((resolve) => (finish = resolve));
  const live = {
    list: () => calls.map((c) => ({ ...c, ageMs: 10_000 })),
    control: {
      end: async (id: string) => {
        ended.push(id);
        await ending;
      },
    },
  };
  const audit = { record: (e: { call: string }) => audited.push(e.call) };
  const stuck = new StuckCalls(live as unknown as LiveCalls, audit as unknown as AuditLog, { thresholdSeconds: 2, autoEnd: true }, silentLogger());
  return { stuck, audited, ended, finish };
}

describe('the stuck-call sweeper', () => {
  it('ends each stuck call once: a call already ending is skipped, and a sweep asked for while one runs is that one', async () => {
    const { stuck, audited, ended, finish } = rig([
      { id: 'old', state: 'connected', stuck: true },
      { id: 'ending', state: 'ended', stuck: true },
      { id: 'young', state: 'connected', stuck: false },
    ]);
    const first = stuck.sweep();
    const second = stuck.sweep();
    finish();
    expect(await first).toEqual(['old']);
    expect(await second).toEqual(['old']);
    expect(audited).toEqual(['old']);
    expect(ended).toEqual(['old']);
  });

  it('stop() waits for a sweep in flight; none runs after it', async () => {
    const { stuck, audited, finish } = rig([{ id: 'old', state: 'connected', stuck: true }]);
    const sweeping = stuck.sweep();
    let stopped = false;
    const stopping = stuck.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await sweeping;
    expect(await stuck.sweep()).toEqual([]);
    expect(audited).toEqual(['old']);
  });
});
