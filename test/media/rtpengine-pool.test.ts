/**
 * The rtpengine pool's health check, with stand-in ng clients whose ping the
 * test answers: an instance that stops answering is reported unreachable once;
 * a check in flight when the pool is stopped (the media plane closing its
 * clients fails the ping) reports nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/observability/logger.js';
import { RtpenginePool, type RtpengineInstance } from '../../src/media/rtpengine/rtpengine-pool.js';
import type { NgClient } from '../../src/media/ng/ng-client.js';

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
