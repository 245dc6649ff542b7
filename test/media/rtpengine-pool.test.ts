/**
 * The rtpengine pool's health check, with stand-in ng clients whose ping the
 * test answers: an instance that stops answering is reported unreachable once;
 * a check in flight when the pool is stopped (the media plane closing its
 * clients fails the ping) reports nothing. Each check reads the instance's
 * uptime: a start later than the one seen before is a restart, reported once.
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/observability/logger.js';
import { RtpenginePool, uptimeSecondsOf, type RtpengineInstance } from '../../src/media/rtpengine/rtpengine-pool.js';
import type { NgClient } from '../../src/media/ng/ng-client.js';
import { RtpengineError } from '../../src/media/media-errors.js';

function rig() {
  const warned: string[] = [];
  let fail: (e: Error) => void = () => undefined;
  const client = { request: () => new Promise((_resolve, reject) => (fail = reject)) };
  const instance: RtpengineInstance = { id: '127.0.0.1:2223', client: client as unknown as NgClient, promptDelivery: 'file', promptPath: (p) => p, healthy: true };
  const logger = { warn: (_o: unknown, msg: string) => warned.push(msg), info: () => undefined } as unknown as Logger;
  const pool = new RtpenginePool([instance], { healthCheckMs: 1000, logger });
  return { pool, instance, warned, fail: (e: Error) => fail(e) };
}

describe('the rtpengine pool health check', () => {
  it('a ping that fails marks the instance unreachable, and says so (the control case)', async () => {
    const { pool, instance, warned, fail } = rig();
    const checking = pool.checkAll();
    fail(new Error('timeout'));
    expect(await checking).toBe(0);
    expect(instance.healthy).toBe(false);
    expect(warned).toEqual(['rtpengine unreachable']);
  });

  it('a check in flight when the pool stops reports nothing: its ping failed because the clients were closed', async () => {
    const { pool, instance, warned, fail } = rig();
    const checking = pool.checkAll();
    pool.stop();
    fail(new Error('ng client is closed'));
    await checking;
    expect(warned).toEqual([]);
    expect(instance.healthy).toBe(true);
  });
});

/**
 * An instance that answers ping, and `statistics` with the uptime rtpengine would give: its
 * clock's second less the second it started in. `startedAt` undefined: `statistics` fails.
 */
function uptimeRig(startedAt: number | undefined) {
  const relay = { clock: 1_000_000, startedAt };
  const client = {
    request: (command: string) => {
      if (command === 'ping') return Promise.resolve({ result: 'pong' });
      if (relay.startedAt === undefined) return Promise.reject(new RtpengineError('statistics', 'Unrecognized command', 'r'));
      const uptime = Math.floor(relay.clock / 1000) - Math.floor(relay.startedAt / 1000);
      return Promise.resolve({ result: 'ok', statistics: { currentstatistics: { sessionsown: 0 }, totalstatistics: { uptime: String(uptime) } } });
    },
  };
  const instance: RtpengineInstance = { id: '127.0.0.1:2223', client: client as unknown as NgClient, promptDelivery: 'file', promptPath: (p) => p, healthy: true };
  const restarted: string[] = [];
  const logger = { warn: () => undefined, info: () => undefined } as unknown as Logger;
  const pool = new RtpenginePool([instance], { healthCheckMs: 1000, logger, now: () => relay.clock, onRestarted: (i) => restarted.push(i.id) });
  /** `ms` pass, then a check. */
  const checkAfter = async (ms: number): Promise<void> => {
    relay.clock += ms;
    await pool.checkAll();
  };
  return { pool, relay, restarted, checkAfter };
}

describe('the health check tells a restarted rtpengine', () => {
  it('an uptime that goes on growing is the same process; one that starts again is a restart, told once', async () => {
    const { pool, relay, restarted, checkAfter } = uptimeRig(1_000_000 - 3_600_300);
    await pool.checkAll();
    for (let i = 0; i < 5; i++) await checkAfter(5000);
    expect(restarted).toEqual([]);
    relay.startedAt = relay.clock + 400;
    await checkAfter(2000);
    expect(restarted).toEqual(['127.0.0.1:2223']);
    for (let i = 0; i < 3; i++) await checkAfter(5000);
    expect(restarted).toEqual(['127.0.0.1:2223']);
  });

  it('a restart while the instance gave no uptime is told at the first check that reads one again', async () => {
    const { pool, relay, restarted, checkAfter } = uptimeRig(1_000_000 - 50_000);
    await pool.checkAll();
    relay.startedAt = undefined;
    await checkAfter(60_000);
    expect(restarted).toEqual([]);
    relay.startedAt = relay.clock - 10_000;
    await checkAfter(5000);
    expect(restarted).toEqual(['127.0.0.1:2223']);
  });

  it('a restart 2.5 s after the last start is told, once the checks have narrowed that start down', async () => {
    const { pool, relay, restarted, checkAfter } = uptimeRig(999_700);
    await pool.checkAll();
    for (let i = 0; i < 3; i++) await checkAfter(500);
    expect(restarted).toEqual([]);
    relay.startedAt = 1_002_200;
    await checkAfter(1000);
    expect(restarted).toEqual(['127.0.0.1:2223']);
  });

  it("the relay's clock stepping forward is not a restart", async () => {
    const { pool, relay, restarted, checkAfter } = uptimeRig(1_000_000 - 50_000);
    await pool.checkAll();
    relay.startedAt! -= 300_000;
    await checkAfter(5000);
    await checkAfter(5000);
    expect(restarted).toEqual([]);
  });

  it('reads the uptime rtpengine 10.5 sends (a string of digits) and nothing else', () => {
    expect(uptimeSecondsOf({ result: 'ok', statistics: { totalstatistics: { uptime: '115' } } })).toBe(115);
    expect(uptimeSecondsOf({ result: 'ok', statistics: { totalstatistics: { uptime: 42 } } })).toBe(42);
    expect(uptimeSecondsOf({ result: 'ok', statistics: { totalstatistics: { uptime: 'soon' } } })).toBeUndefined();
    expect(uptimeSecondsOf({ result: 'ok', statistics: [] })).toBeUndefined();
    expect(uptimeSecondsOf({ result: 'ok' })).toBeUndefined();
  });
});
