/**
 * The status endpoint through a start and a stop: it answers from the first
 * moment (503 "starting" naming the step, with Retry-After) to the last (503
 * "stopping"), and serves the engine's status, metrics and calls in between
 * (the status 503 "draining" while live calls finish after SIGTERM).
 */
import { describe, expect, it } from 'vitest';
import { startStatusServer } from '../../src/app/status-server.js';

async function get(port: number, path: string): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

describe('the status endpoint', () => {
  it('503 "starting" with its step, then the status with state ready, then 503 "stopping"; 404 and 405 as before', async () => {
    const server = await startStatusServer('127.0.0.1', 0);
    try {
      const first = await get(server.port, '/status');
      expect(first).toMatchObject({ status: 503, retryAfter: '1' });
      expect(JSON.parse(first.body)).toMatchObject({ state: 'starting', step: 'configuration' });
      server.starting('media relay (rtpengine)');
      for (const path of ['/status', '/metrics', '/calls']) {
        const r = await get(server.port, path);
        expect([r.status, JSON.parse(r.body)]).toEqual([503, expect.objectContaining({ state: 'starting', step: 'media relay (rtpengine)' })]);
      }
      expect((await get(server.port, '/nothing')).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/status`, { method: 'POST' })).status).toBe(405);
      server.serve({
        status: async () => ({ engine: { liveCalls: 2 } }),
        calls: () => [{ id: 'c1' }],
        metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'switchboard_up 1\n' }),
      });
      const ready = await get(server.port, '/status');
      expect([ready.status, ready.retryAfter, JSON.parse(ready.body)]).toEqual([200, null, { state: 'ready', engine: { liveCalls: 2 } }]);
      expect(await get(server.port, '/metrics')).toMatchObject({ status: 200, body: 'switchboard_up 1\n' });
      expect(JSON.parse((await get(server.port, '/calls')).body)).toEqual([{ id: 'c1' }]);
      // A late step (a start that failed half-way is stopped, not resumed) does not take the status back.
      server.starting('API');
      expect((await get(server.port, '/status')).status).toBe(200);
      // Draining (SIGTERM): a readiness probe fails as the SIP side refuses calls, the status still shows what is left.
      server.draining();
      const draining = await get(server.port, '/status');
      expect([draining.status, JSON.parse(draining.body)]).toEqual([503, { state: 'draining', engine: { liveCalls: 2 } }]);
      expect(await get(server.port, '/metrics')).toMatchObject({ status: 200, body: 'switchboard_up 1\n' });
      expect((await get(server.port, '/calls')).status).toBe(200);
      server.stopping();
      const stopping = await get(server.port, '/status');
      expect([stopping.status, stopping.retryAfter, JSON.parse(stopping.body)]).toEqual([503, '1', { state: 'stopping' }]);
    } finally {
      await server.stop();
    }
    await expect(fetch(`http://127.0.0.1:${server.port}/status`)).rejects.toThrow();
  });
});
