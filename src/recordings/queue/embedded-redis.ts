/**
 * The private redis-server used when no Redis URL is configured (D8): a
 * supervised child with append-only-file persistence under the state
 * directory, listening on a unix socket in a 0700 directory (only this user
 * can reach it; no password, no TCP port unless one is configured).
 *
 * One process owns it (the recordings worker). If that process was killed,
 * its redis-server lives on as an orphan holding the socket: the next owner
 * asks it to shut down (flushing its AOF) and starts its own on the same data.
 * A live owner is respected: a second worker is told to use a shared Redis URL.
 */
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../../daemon/processes.js';
import { SupervisedProcess } from '../../daemon/supervised-process.js';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { pingRedis, shutdownRedis } from './redis-connection.js';

export interface EmbeddedRedisOptions {
  /** Directory for the socket, AOF files and owner lock. */
  readonly dir: string;
  readonly binary?: string;
  /** TCP port on `host` in addition to the socket; 0 = none. */
  readonly port?: number;
  readonly host?: string;
  readonly appendfsync?: 'always' | 'everysec';
  readonly logger: Logger;
}

export class EmbeddedRedis {
  readonly socketPath: string;
  private readonly ownerFile: string;
  private process: SupervisedProcess | undefined;

  constructor(private readonly o: EmbeddedRedisOptions) {
    this.socketPath = join(o.dir, 'redis.sock');
    this.ownerFile = join(o.dir, 'owner.pid');
    if (Buffer.byteLength(this.socketPath) > 100) {
      throw new SwitchboardError(ErrorCodes.REDIS_UNAVAILABLE, `the embedded Redis socket path is too long for a unix socket (${this.socketPath}); use a shorter node.stateDir or set redis.url`);
    }
  }

  /** The URL clients connect with. */
  get url(): string {
    return `unix://${this.socketPath}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** The supervised child (restart events, output tail). */
  get supervised(): SupervisedProcess | undefined {
    return this.process;
  }

  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    await this.takeOver();
    const args = [
      '--port', String(this.o.port ?? 0),
      '--bind', this.o.host ?? '127.0.0.1',
      '--unixsocket', this.socketPath,
      '--unixsocketperm', '700',
      '--dir', this.o.dir,
      '--appendonly', 'yes',
      '--appendfsync', this.o.appendfsync ?? 'always',
      '--save', '',
      '--daemonize', 'no',
      '--pidfile', join(this.o.dir, 'redis.pid'),
      '--protected-mode', 'yes',
      '--loglevel', 'warning',
      '--logfile', '',
    ];
    this.process = new SupervisedProcess({
      name: 'redis-server',
      command: this.o.binary ?? 'redis-server',
      args,
      ready: (signal) => pingRedis({ path: this.socketPath }, 500, signal),
      readyTimeoutMs: 30_000,
      probeIntervalMs: 50,
      restart: { enabled: true, minDelayMs: 100, maxDelayMs: 5000 },
      stopGraceMs: 10_000,
      // Its own process group: a terminal's Ctrl-C reaches its owner, which stops it after its jobs.
      processGroup: true,
      logger: this.o.logger,
    });
    await this.process.start();
    this.process.on('ready', (pid) => this.o.logger.info({ pid }, 'embedded Redis (re)started'));
  }

  /** Claims ownership; shuts down an orphaned server left by a dead owner. */
  private async takeOver(): Promise<void> {
    const previous = Number((await readFile(this.ownerFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(previous) && previous > 0 && previous !== process.pid && processAlive(previous)) {
      throw new SwitchboardError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `the embedded Redis in ${this.o.dir} belongs to running process ${previous}; run one worker per state directory, or set redis.url to share a Redis server`,
      );
    }
    await writeFile(this.ownerFile, `${process.pid}\n`, { mode: 0o600 });
    if (await pingRedis({ path: this.socketPath }, 500)) {
      this.o.logger.warn({ socket: this.socketPath }, 'an orphaned embedded Redis is running; asking it to shut down before taking over its data');
      await shutdownRedis(this.socketPath);
      for (let i = 0; i < 200 && (await pingRedis({ path: this.socketPath }, 200)); i++) await sleep(50);
    }
    await unlink(this.socketPath).catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
    const owner = Number((await readFile(this.ownerFile, 'utf8').catch(() => '')).trim());
    if (owner === process.pid) await rm(this.ownerFile, { force: true });
  }
}
