/**
 * The embedded default media relay: a private rtpengine child with a config
 * generated under the state directory, started through SupervisedProcess,
 * ready once it answers an ng `ping`, restarted with back-off if it dies,
 * stopped on shutdown. rtpengine keeps calls in memory only, so a restart
 * loses every call it carried: `lost` and `restarted` tell the owner.
 *
 * `rtpengine.pid` records which engine owns the daemon and the daemon's pid.
 * A daemon left by an owner that died (setpriv unavailable, or a daemon that
 * ignored the parent-death signal) still holds the fixed ng and CLI ports and
 * answers pings, so the next start would look ready and fail every call: it
 * is stopped first. A live owner is respected (two engines, one state dir).
 *
 * Its directories are 0700: rtpengine writes the pcap captures in plain text,
 * readable by any local user if the folders were not closed.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { commandLineOf, processAlive, startTimeOf, terminate } from '../../daemon/processes.js';
import { SupervisedProcess } from '../../daemon/supervised-process.js';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { NgClient } from '../ng/ng-client.js';
import { freeTcpPort, freeUdpPort, renderRtpengineConfig, type RtpengineFileSettings } from './rtpengine-config.js';

/**
 * The settings of the generated config file, plus the binary. Here `ngPort` and `cliPort` may be 0
 * (pick a free port at start) and the recording directory defaults under the state dir.
 */
export type EmbeddedRtpengineSettings = Omit<RtpengineFileSettings, 'recordingDir'> & {
  readonly binary: string;
  readonly recordingDir?: string;
};

export interface EmbeddedRtpengineOptions {
  readonly settings: EmbeddedRtpengineSettings;
  /** The engine's state directory; ours is `<stateDir>/rtpengine`. */
  readonly stateDir: string;
  readonly logger: Logger;
  readonly requestTimeoutMs?: number;
  readonly retransmitMs?: number;
  readonly readyTimeoutMs?: number;
  readonly restart?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
}

export interface EmbeddedRtpengineEvents {
  /** The daemon died; every call it carried is gone. */
  lost: [];
  /** The daemon is back after dying (answers ping again). */
  restarted: [];
}

/** Attempts at start when ports are picked by us and another process grabs one first. */
const PORT_RACE_ATTEMPTS = 5;

export class EmbeddedRtpengine extends EventEmitter<EmbeddedRtpengineEvents> {
  private process: SupervisedProcess | undefined;
  private ngClient: NgClient | undefined;
  private files: RtpengineFileSettings | undefined;
  private stopped = false;
  readonly directory: string;

  constructor(private readonly options: EmbeddedRtpengineOptions) {
    super();
    this.directory = join(resolve(options.stateDir), 'rtpengine');
  }

  /** Where rtpengine writes pcap recordings (`pcaps/`) and their metadata (`metadata/`). */
  get recordingDir(): string {
    return this.options.settings.recordingDir !== undefined ? resolve(this.options.settings.recordingDir) : join(this.directory, 'recordings');
  }

  get configFile(): string {
    return join(this.directory, 'rtpengine.conf');
  }

  private get pidFile(): string {
    return join(this.directory, 'rtpengine.pid');
  }

  /** The ng client of this daemon (after start). */
  get client(): NgClient {
    if (this.ngClient === undefined) throw new SwitchboardError(ErrorCodes.RTPENGINE_UNAVAILABLE, 'embedded rtpengine is not started');
    return this.ngClient;
  }

  get ngPort(): number | undefined {
    return this.files?.ngPort;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get restarts(): number {
    return this.process?.restarts ?? 0;
  }

  /** Starts the daemon and resolves once it answers ping. */
  async start(): Promise<void> {
    const s = this.options.settings;
    for (const dir of [this.directory, this.recordingDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // A folder we may not change (a mount of another user's) is used as it is, said once.
      await chmod(dir, 0o700).catch((e: Error) => this.options.logger.warn({ dir, err: e.message }, 'cannot close the folder to other users (rtpengine writes captures in plain text there)'));
    }
    await this.takeOver();
    const autoPorts = s.ngPort === 0 || s.cliPort === 0;
    let lastError: unknown;
    for (let attempt = 1; attempt <= (autoPorts ? PORT_RACE_ATTEMPTS : 1); attempt++) {
      if (this.stopped) break;
      const attemptState = { exitedDuringStart: false };
      try {
        await this.startOnce(attemptState);
        return;
      } catch (e) {
        lastError = e;
        this.ngClient?.close();
        this.ngClient = undefined;
        this.process = undefined;
        this.options.logger.warn({ attempt, err: (e as Error).message }, 'embedded rtpengine failed to start');
        // Only a daemon that exited (e.g. its port was taken meanwhile) is worth another try with new ports.
        if (!attemptState.exitedDuringStart) break;
      }
    }
    throw lastError instanceof Error ? lastError : new SwitchboardError(ErrorCodes.CHILD_PROCESS, 'embedded rtpengine did not start');
  }

  private async startOnce(attemptState: { exitedDuringStart: boolean }): Promise<void> {
    const s = this.options.settings;
    const files: RtpengineFileSettings = {
      interface: s.interface,
      ...(s.advertisedAddress !== undefined ? { advertisedAddress: s.advertisedAddress } : {}),
      portMin: s.portMin,
      portMax: s.portMax,
      ngPort: s.ngPort !== 0 ? s.ngPort : await freeUdpPort(),
      cliPort: s.cliPort !== 0 ? s.cliPort : await freeTcpPort(),
      logLevel: s.logLevel,
      timeoutSeconds: s.timeoutSeconds,
      silentTimeoutSeconds: s.silentTimeoutSeconds,
      recordingDir: this.recordingDir,
      ...(s.threads !== undefined ? { threads: s.threads } : {}),
      ...(s.dtmfLogDest !== undefined ? { dtmfLogDest: s.dtmfLogDest } : {}),
      ...(s.teardownUrl !== undefined ? { teardownUrl: s.teardownUrl } : {}),
    };
    await writeFile(this.configFile, renderRtpengineConfig(files));
    const client = new NgClient({
      host: '127.0.0.1',
      port: files.ngPort,
      logger: this.options.logger,
      timeoutMs: this.options.requestTimeoutMs,
      retransmitMs: this.options.retransmitMs,
    });
    const proc = new SupervisedProcess({
      name: 'rtpengine',
      command: s.binary,
      args: ['--foreground', '--log-stderr', '--no-log-timestamps', `--config-file=${this.configFile}`],
      cwd: this.directory,
      ready: async () => (await client.request('ping', {}, { timeoutMs: 250 })).result === 'pong',
      readyTimeoutMs: this.options.readyTimeoutMs ?? 15_000,
      probeIntervalMs: 100,
      restart: { enabled: true, minDelayMs: this.options.restart?.minDelayMs ?? 200, maxDelayMs: this.options.restart?.maxDelayMs ?? 10_000 },
      // Its own process group: Ctrl-C (SIGINT to the terminal's foreground group) must reach only the
      // engine, which drains its calls before stopping rtpengine; rtpengine 10.5 also segfaults on a
      // signal under live calls. It still dies with us (the parent-death signal).
      processGroup: true,
      logger: this.options.logger,
    });
    let started = false;
    proc.on('exit', (code, signal) => {
      if (!started) attemptState.exitedDuringStart = true;
      if (!started || this.stopped) return;
      this.options.logger.error({ code, signal }, 'embedded rtpengine died; its calls are lost');
      this.emit('lost');
    });
    proc.on('ready', (pid) => {
      // Written before start() resolves (the event is synchronous), so it is there once we are up.
      try {
        writeFileSync(this.pidFile, `${JSON.stringify({ owner: process.pid, ownerStart: startTimeOf(process.pid), pid })}\n`, { mode: 0o600 });
      } catch (e) {
        this.options.logger.warn({ err: (e as Error).message }, 'cannot write rtpengine.pid');
      }
      if (started) this.emit('restarted');
    });
    this.ngClient = client;
    this.process = proc;
    this.files = files;
    await proc.start();
    started = true;
    this.options.logger.info({ ngPort: files.ngPort, ports: `${files.portMin}-${files.portMax}`, pid: proc.pid }, 'embedded rtpengine ready');
  }

  /** Refuses a directory whose owner lives; stops the daemon a dead owner left running. */
  private async takeOver(): Promise<void> {
    let recorded: { owner?: unknown; ownerStart?: unknown; pid?: unknown };
    try {
      recorded = JSON.parse(await readFile(this.pidFile, 'utf8')) as typeof recorded;
    } catch {
      return; // none, or unreadable: nothing to take over
    }
    const { owner, ownerStart, pid } = recorded;
    // The owner's start time tells it from a process that got its pid after a reboot.
    if (typeof owner === 'number' && owner !== process.pid && processAlive(owner) && (typeof ownerStart !== 'string' || startTimeOf(owner) === ownerStart)) {
      throw new SwitchboardError(ErrorCodes.RTPENGINE_UNAVAILABLE, `the embedded rtpengine in ${this.directory} belongs to running process ${owner}; give each engine its own node.stateDir`);
    }
    // Only the daemon started with this very config file: a reused pid is some other process.
    if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && processAlive(pid) && (commandLineOf(pid) ?? []).includes(`--config-file=${this.configFile}`)) {
      this.options.logger.warn({ pid, owner }, 'an orphaned embedded rtpengine is running (its engine died); stopping it before starting ours');
      if (!(await terminate(pid, 3000))) throw new SwitchboardError(ErrorCodes.RTPENGINE_UNAVAILABLE, `the orphaned embedded rtpengine (pid ${pid}) in ${this.directory} did not stop`);
    }
    await rm(this.pidFile, { force: true });
  }

  /** The daemon's recent output (for diagnostics). */
  outputTail(): string {
    return this.process?.outputTail() ?? '';
  }

  /** Stops the daemon and closes the ng client. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ngClient?.close();
    await this.process?.stop();
    const owner = await readFile(this.pidFile, 'utf8').then((t) => (JSON.parse(t) as { owner?: unknown }).owner, () => undefined);
    if (owner === process.pid) await rm(this.pidFile, { force: true });
  }
}
