/**
 * A child daemon we own (rtpengine, redis-server): spawn it, wait until a probe
 * says it answers, restart it with back-off if it dies, stop it on shutdown.
 * Start failures carry the tail of the child's output so the operator sees why.
 *
 * A daemon never outlives us: it is started through util-linux's `setpriv
 * --pdeathsig`, so the kernel sends it SIGTERM when our process dies, even by
 * SIGKILL (an orphaned rtpengine would keep the ports the next start needs,
 * and answer its pings). Without a setpriv that knows --pdeathsig, or for a
 * binary with file capabilities (the kernel clears the signal at its exec),
 * the owner's own takeover applies (rtpengine.pid, Redis's owner.pid).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { OutputTail } from './output-tail.js';

export interface SupervisedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Resolves true once the daemon answers (e.g. a ping on its control port). */
  readonly ready: (signal: AbortSignal) => Promise<boolean>;
  readonly readyTimeoutMs?: number;
  readonly probeIntervalMs?: number;
  /** Restart after an unexpected exit (default on), with exponential back-off. */
  readonly restart?: { readonly enabled: boolean; readonly minDelayMs?: number; readonly maxDelayMs?: number };
  readonly stopGraceMs?: number;
  /**
   * Run the daemon in its own process group, and SIGKILL the whole group after
   * a stop or on a kill: for daemons that fork workers (Kamailio, the
   * recordings worker's Redis and ffmpeg), so none outlives them.
   */
  readonly processGroup?: boolean;
  /**
   * The signal the daemon gets when our process dies (default SIGTERM: it shuts
   * down cleanly); null to let it live on. Needs setpriv (util-linux).
   */
  readonly parentDeathSignal?: NodeJS.Signals | null;
  /** Every chunk the daemon prints (e.g. to watch its log for events). */
  readonly onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  readonly logger: Logger;
}

export interface SupervisedProcessEvents {
  ready: [pid: number];
  exit: [code: number | null, signal: NodeJS.Signals | null];
  restarting: [attempt: number, delayMs: number];
  failed: [error: SwitchboardError];
}

/**
 * util-linux's setpriv, which sets the parent-death signal and then runs the daemon in its own place
 * (same pid). The signal follows the thread that spawned the daemon: ours are spawned from the main
 * thread, which lives as long as the process.
 */
let setprivFound: string | null | undefined;
/** setpriv when it has --pdeathsig (util-linux 2.33 and later; not BusyBox's), asked once; null otherwise. */
function setpriv(): string | null {
  if (setprivFound !== undefined) return setprivFound;
  const file = ['/usr/bin/setpriv', '/bin/setpriv'].find((f) => existsSync(f));
  const help = file === undefined ? undefined : spawnSync(file, ['--help'], { encoding: 'utf8', timeout: 5000 });
  setprivFound = file !== undefined && help !== undefined && `${help.stdout}${help.stderr}`.includes('--pdeathsig') ? file : null;
  return setprivFound;
}

/** Whether `command` names an executable file, directly or on the PATH. */
function findExecutable(command: string, env: NodeJS.ProcessEnv): boolean {
  const runnable = (f: string): boolean => {
    try {
      accessSync(f, constants.X_OK);
      return statSync(f).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return runnable(command);
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && runnable(join(dir, command)));
}

export class SupervisedProcess extends EventEmitter<SupervisedProcessEvents> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private started = false;
  private restartCount = 0;
  private readonly tail = new OutputTail();
  private readonly abort = new AbortController();

  constructor(private readonly options: SupervisedProcessOptions) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the daemon was restarted after dying. */
  get restarts(): number {
    return this.restartCount;
  }

  /** The last few KB the daemon printed. */
  outputTail(): string {
    return this.tail.text();
  }

  /** Spawns the daemon and resolves once it is ready; rejects with its output tail if it is not. */
  async start(): Promise<void> {
    if (this.started) throw new SwitchboardError(ErrorCodes.CHILD_PROCESS, `${this.options.name} already started`);
    this.started = true;
    await this.spawnAndWait();
  }

  private async spawnAndWait(): Promise<void> {
    const { name, command, args, cwd, env, logger } = this.options;
    const deathSignal = this.options.parentDeathSignal === undefined ? 'SIGTERM' : this.options.parentDeathSignal;
    // A command that is not there is spawned as is, so that its error says so (ENOENT), not setpriv's.
    const withSetpriv = deathSignal !== null && findExecutable(command, env ?? process.env) ? setpriv() : null;
    const [file, argv]: [string, string[]] = withSetpriv !== null && deathSignal !== null ? [withSetpriv, ['--pdeathsig', deathSignal, '--', command, ...args]] : [command, [...args]];
    const child = spawn(file, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: this.options.processGroup === true });
    this.child = child;
    const onOutput = this.options.onOutput;
    child.stdout?.on('data', (c: Buffer) => {
      this.tail.push(c);
      onOutput?.(c, 'stdout');
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.tail.push(c);
      onOutput?.(c, 'stderr');
    });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    let exited = false;
    let becameReady = false;
    child.once('exit', (code, signal) => {
      exited = true;
      this.emit('exit', code, signal);
      // A child that never became ready is retried by whoever awaited its start.
      if (this.stopping || !becameReady) return;
      logger.warn({ ...this.daemonField(), code, signal, output: this.tail.text().slice(-1000) }, 'daemon exited unexpectedly');
      void this.restartLater();
    });

    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 10_000);
    const interval = this.options.probeIntervalMs ?? 100;
    while (Date.now() < deadline) {
      if (spawnError !== undefined || exited) break;
      try {
        if (await this.options.ready(this.abort.signal)) {
          becameReady = true;
          logger.info({ ...this.daemonField(), daemonPid: child.pid }, 'daemon ready');
          this.emit('ready', child.pid ?? -1);
          return;
        }
      } catch {
        // not ready yet
      }
      await sleep(interval);
    }
    const why =
      spawnError !== undefined
        ? `could not start ${command}: ${spawnError.message}`
        : exited
          ? `${name} exited during start-up`
          : `${name} did not become ready within ${this.options.readyTimeoutMs ?? 10_000} ms`;
    if (!exited) this.killChild(child);
    const tail = this.tail.text();
    throw new SwitchboardError(ErrorCodes.CHILD_PROCESS, tail === '' ? why : `${why}; its last output:\n${tail}`);
  }

  private async restartLater(): Promise<void> {
    const policy = this.options.restart ?? { enabled: true };
    if (!policy.enabled || this.stopping) return;
    const min = policy.minDelayMs ?? 200;
    const max = policy.maxDelayMs ?? 10_000;
    for (;;) {
      if (this.stopping) return;
      this.restartCount++;
      const delay = Math.min(max, min * 2 ** Math.min(this.restartCount - 1, 16));
      this.emit('restarting', this.restartCount, delay);
      await sleep(delay);
      if (this.stopping) return;
      try {
        await this.spawnAndWait();
        return;
      } catch (e) {
        const err = e as SwitchboardError;
        this.options.logger.error({ ...this.daemonField(), err: err.message }, 'daemon restart failed');
        this.emit('failed', err);
      }
    }
  }

  private killChild(child: ChildProcess): void {
    if (child.exitCode === null && child.signalCode === null) this.signal(child, 'SIGKILL');
  }

  /** The daemon's name for a log line, unless the logger already carries it (pino would write the key twice). */
  private daemonField(): { daemon?: string } {
    return this.options.logger.bindings().daemon === undefined ? { daemon: this.options.name } : {};
  }

  /** Signals the daemon, or its whole process group when it has one. */
  private signal(child: ChildProcess, signal: NodeJS.Signals): void {
    if (this.options.processGroup === true && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
        return;
      } catch {
        // the group is gone already; fall back to the child itself
      }
    }
    child.kill(signal);
  }

  /** Stops the daemon (SIGTERM, then SIGKILL after the grace period). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGTERM to the daemon alone: it stops its own children in its own order (the recordings
    // worker finishes its jobs before its Redis goes). The group gets SIGKILL only at the end.
    child.kill('SIGTERM');
    const grace = sleep(this.options.stopGraceMs ?? 3000).then(() => 'timeout' as const);
    if ((await Promise.race([exited.then(() => 'exited' as const), grace])) === 'timeout') {
      this.options.logger.warn({ ...this.daemonField(), graceMs: this.options.stopGraceMs ?? 3000 }, 'daemon did not stop in time after SIGTERM; killed');
      this.signal(child, 'SIGKILL');
      await exited;
    }
    // Workers still exiting after their parent: make sure none is left behind.
    if (this.options.processGroup === true && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the whole group is gone
      }
    }
  }
}
