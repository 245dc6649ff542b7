/**
 * What anyone who reaches the API port can hold, over real sockets: an idle
 * connection is closed after `api.idleTimeoutSeconds` (an event stream's
 * keep-alives keep it open), no more than `api.maxConnections` are open at
 * once; HEAD /events answers at once and subscribes to nothing; a stream whose
 * key is revoked is closed at the keys' reload.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { readKeysFile, writeKeysFile } from '../../src/api/auth/keys-file.js';
import { RoleBook } from '../../src/api/auth/roles.js';
import { eventually } from '../support/harness.js';
import { startFixture } from './support/api-fixture.js';
import { SseClient } from './support/sse-client.js';

/** A raw connection to the API that sends `send` (nothing by default), and when it was closed by the server. */
async function rawConnection(port: number, send = ''): Promise<{ socket: Socket; closed: Promise<void>; isClosed: () => boolean }> {
  const socket = connect({ host: '127.0.0.1', port });
  let isClosed = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => ((isClosed = true), resolve())));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (send !== '') socket.write(send);
  return { socket, closed, isClosed: () => isClosed };
}

describe('API connections', () => {
  it('an idle connection, or one that never completes its request, is closed after idleTimeoutSeconds; an event stream stays open on its keep-alives', async () => {
    const fx = await startFixture({ api: { idleTimeoutSeconds: 1 } }, { listen: true });
    try {
      const port = fx.server!.port;
      const silent = await rawConnection(port);
      const trickling = await rawConnection(port, 'GET /calls HTTP/1.1\r\nHost: x\r\n');
      const stream = await SseClient.open(port, '/events', fx.auth('admin'));
      await Promise.all([silent.closed, trickling.closed]);
      // Four keep-alives (every half second): twice the idle timeout, and the stream is still there.
      await eventually(() => stream.comments >= 4, 10_000, 'keep-alives on the stream');
      expect(fx.api.events.size).toBe(1);
      stream.close();
    } finally {
      await fx.close();
    }
  });

  it('past maxConnections a new connection is closed at once; the open ones stay, and a place freed is taken again', async () => {
    const fx = await startFixture({ api: { maxConnections: 2 } }, { listen: true });
    try {
      const port = fx.server!.port;
      const first = await rawConnection(port);
      const second = await rawConnection(port);
      const third = await rawConnection(port);
      await third.closed;
      expect([first.isClosed(), second.isClosed()]).toEqual([false, false]);
      first.socket.destroy();
      const open = (): Promise<number> => new Promise((resolve) => fx.api.app.server.getConnections((_e, n) => resolve(n)));
      await eventually(async () => (await open()) < 2, 10_000, 'the place freed');
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/calls', headers: { ...fx.auth('admin'), connection: 'close' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      second.socket.destroy();
    } finally {
      await fx.close();
    }
  });

  it('HEAD /events answers its header section at once and subscribes to nothing', async () => {
    const fx = await startFixture({}, { listen: true });
    try {
      const head = await new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: fx.server!.port, path: '/events', method: 'HEAD', headers: fx.auth('admin') }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] });
        });
        req.on('error', reject);
        req.end();
      });
      expect(head).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
      expect(fx.api.events.size).toBe(0);
    } finally {
      await fx.close();
    }
  });

  it('a stream whose key is revoked is closed at the keys’ reload; another user’s stays', async () => {
    const fx = await startFixture({}, { listen: true });
    try {
      const revoked = await SseClient.open(fx.server!.port, '/events', fx.auth('supervisor'));
      const kept = await SseClient.open(fx.server!.port, '/events', fx.auth('admin'));
      await Promise.all([revoked.next((e) => e.event === 'snapshot', 'snapshot'), kept.next((e) => e.event === 'snapshot', 'snapshot')]);
      const ended = revoked.ended();
      writeKeysFile(fx.keysFile, readKeysFile(fx.keysFile, new RoleBook(fx.config.api.roles)).filter((k) => k.user !== 'supervisor'));
      fx.api.keys.reload();
      await ended;
      expect(fx.api.events.size).toBe(1);
      kept.close();
    } finally {
      await fx.close();
    }
  });
});
