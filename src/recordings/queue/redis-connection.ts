/**
 * Connecting to Redis for BullMQ: `redis://`, `rediss://` (ioredis reads
 * those itself) or `unix:///path/to.sock` (the embedded server's socket).
 * BullMQ needs `maxRetriesPerRequest: null` so that a blocked worker waits
 * through a Redis restart instead of failing its commands.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { createConnection } from 'node:net';

export function redisOptionsFor(url: string): { url?: string; options: RedisOptions } {
  const common: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Keep trying while the server restarts (AOF replay); cap the gap so we are back quickly.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (url.startsWith('unix://')) return { options: { ...common, path: url.slice('unix://'.length) } };
  return { url, options: common };
}

/** A Redis URL as logs may show it: the password masked. */
export function displayRedisUrl(url: string): string {
  if (url.startsWith('unix://')) return url;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an unreadable Redis URL)';
  }
}

export function openRedis(url: string, connectionName: string): Redis {
  const { url: u, options } = redisOptionsFor(url);
  const opts = { ...options, connectionName };
  return u !== undefined ? new Redis(u, opts) : new Redis(opts);
}

/** Sends PING over a unix socket or TCP and resolves true on +PONG (false while loading or unreachable). */
export function pingRedis(target: { path: string } | { host: string; port: number }, timeoutMs = 1000, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in target ? createConnection(target.path) : createConnection(target.port, target.host);
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = (): void => done(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (c: Buffer) => {
      reply += c.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

/** Asks a Redis server to flush its AOF and exit (used to take over an orphaned embedded server). */
export function shutdownRedis(path: string, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, timeoutMs);
    socket.on('connect', () => socket.write('SHUTDOWN\r\n'));
    const end = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    socket.on('close', end);
    socket.on('error', end);
  });
}
