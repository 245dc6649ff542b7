/**
 * Kamailio (Debian's `kamailio` package) as a real proxy in front of engine
 * nodes: a generated config in its own temp directory, run in the foreground
 * (`-DD -E`) in its own process group so no worker outlives the test, with a
 * bounded lifetime, ready once its control socket answers. Tests read its routing log and ask its
 * dispatcher, through `kamcmd`, which nodes it considers up.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SupervisedProcess } from '../../../src/daemon/supervised-process.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { freePort } from '../sipp.js';
import { kamailioFiles, type KamailioConfigOptions } from './kamailio-config.js';
import { LineEvents } from './line-events.js';

/** One `INTEROP|kind|…` line of the routing script. */
export interface KamailioEvent {
  readonly kind: string;
  readonly method: string;
  readonly source: string;
  readonly proto: string;
  readonly target: string;
  /** Call-ID, CSeq number and method: the same for a request and its retransmissions. */
  readonly request: string;
}

export type DestinationState = 'active' | 'inactive' | 'trying' | 'disabled';

export interface DispatcherDestination {
  readonly uri: string;
  readonly state: DestinationState;
  readonly probing: boolean;
}

/** A whole Kamailio script of the test's own: its files (written into `dir`) and its control socket. */
export interface KamailioScript {
  (where: { readonly dir: string; readonly host: string; readonly port: number }): {
    readonly cfg: string;
    readonly ctlSocket: string;
    /** Further files by name (a TLS profile, certificates). */
    readonly files?: Readonly<Record<string, string>>;
  };
}

export interface KamailioOptions {
  /** The engine nodes for the default dispatcher script. */
  readonly engines: readonly string[];
  /** Another script instead of the dispatcher one (then `engines` is not used). */
  readonly script?: KamailioScript;
  readonly host?: string;
  readonly pingIntervalSec?: number;
  readonly nonInviteTimeoutMs?: number;
  readonly initiallyActive?: boolean;
  /** Upper bound on its lifetime, in seconds (default 300). */
  readonly lifetimeSec?: number;
}

export class Kamailio {
  private constructor(
    readonly events: LineEvents<KamailioEvent>,
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
    private readonly ctlSocket: string,
    private readonly process: SupervisedProcess,
  ) {}

  /** host:port for SIPp and friends. */
  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  static async start(options: KamailioOptions): Promise<Kamailio> {
    let lastError: unknown;
    // A port picked as free can be taken before Kamailio binds it: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await Kamailio.startOnce(options, await freePort());
      } catch (e) {
        lastError = e;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private static async startOnce(options: KamailioOptions, port: number): Promise<Kamailio> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-kam-'));
    const host = options.host ?? '127.0.0.1';
    const config: KamailioConfigOptions = {
      dir,
      host,
      port,
      engines: options.engines,
      pingIntervalSec: options.pingIntervalSec ?? 1,
      nonInviteTimeoutMs: options.nonInviteTimeoutMs ?? 2000,
      initiallyActive: options.initiallyActive ?? false,
    };
    const files = options.script !== undefined ? options.script({ dir, host, port }) : kamailioFiles(config);
    writeFileSync(join(dir, 'kamailio.cfg'), files.cfg);
    if ('dispatcherList' in files) writeFileSync(join(dir, 'dispatcher.list'), files.dispatcherList);
    if ('files' in files) for (const [name, text] of Object.entries(files.files ?? {})) writeFileSync(join(dir, name), text);
    const events = new LineEvents<KamailioEvent>();
    const onLine = (line: string): void => {
      const e = parseEventLine(line);
      if (e !== undefined) events.push(e);
    };
    const process = new SupervisedProcess({
      name: 'kamailio',
      // Under coreutils' timeout: a Kamailio orphaned by a test process that died still goes away.
      command: 'timeout',
      args: ['--kill-after=5', String(options.lifetimeSec ?? 300), 'kamailio', '-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-m', '32', '-M', '4', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-w', dir],
      processGroup: true,
      restart: { enabled: false },
      readyTimeoutMs: 10_000,
      probeIntervalMs: 100,
      ready: async () => (await kamcmd(files.ctlSocket, ['core.uptime'])).includes('uptime'),
      onOutput: byStream(onLine),
      logger: silentLogger(),
    });
    try {
      await process.start();
    } catch (e) {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return new Kamailio(events, host, port, dir, files.ctlSocket, process);
  }

  /** Kamailio's own output (for failure messages). */
  output(): string {
    return this.process.outputTail();
  }

  /** The dispatcher's view of the engine nodes (`dispatcher.list`). */
  async destinations(): Promise<DispatcherDestination[]> {
    return parseDispatcherList(await kamcmd(this.ctlSocket, ['dispatcher.list']));
  }

  /** How many different requests (retransmissions counted once) matching `pred` were logged since event `from`. */
  requests(pred: (e: KamailioEvent) => boolean, from = 0): number {
    return new Set(this.events.all.slice(from).filter(pred).map((e) => e.request)).size;
  }

  /** Waits until the dispatcher reports `uri` in `state` (bounded). */
  async waitForState(uri: string, state: DestinationState, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last: DispatcherDestination[] = [];
    while (Date.now() < end) {
      last = await this.destinations();
      if (last.some((d) => d.uri === uri && d.state === state)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dispatcher did not report ${uri} ${state} within ${timeoutMs} ms; it reports ${JSON.stringify(last)}`);
  }

  async stop(): Promise<void> {
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An `INTEROP|kind|method|ip|port|proto|target|call-id|cseq` line of the routing script (see kamailio-config.ts). */
function parseEventLine(line: string): KamailioEvent | undefined {
  const i = line.indexOf('INTEROP|');
  if (i < 0) return undefined;
  const [, kind = '', method = '', source = '', sourcePort = '', proto = '', target = '', callId = '', cseq = ''] = line.slice(i).trim().split('|');
  // dispatcher events carry only the destination
  if (kind === 'dst-down' || kind === 'dst-up') return { kind, method: '', source: '', proto: '', target: method, request: '' };
  return { kind, method, source: `${source}:${sourcePort}`, proto, target, request: `${callId} ${cseq} ${method}` };
}

/** Runs `kamcmd` against a control socket; resolves its output ('' on failure). */
function kamcmd(socket: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('kamcmd', ['-s', `unix:${socket}`, ...args], { timeout: 3000 }, (err, stdout) => resolve(err === null ? stdout : ''));
  });
}

const STATES: Record<string, DestinationState> = { A: 'active', I: 'inactive', T: 'trying', D: 'disabled' };

/** `kamcmd dispatcher.list` prints `URI: …` followed by `FLAGS: AP` for each destination. */
export function parseDispatcherList(text: string): DispatcherDestination[] {
  const out: DispatcherDestination[] = [];
  let uri: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('URI:')) uri = line.slice(4).trim();
    else if (line.startsWith('FLAGS:') && uri !== undefined) {
      const flags = line.slice(6).trim();
      out.push({ uri, state: STATES[flags[0] ?? ''] ?? 'disabled', probing: flags.includes('P') });
      uri = undefined;
    }
  }
  return out;
}

/** Whole lines from a child's stdout and stderr, each stream split on its own. */
export function byStream(onLine: (line: string) => void): (chunk: Buffer, stream: 'stdout' | 'stderr') => void {
  const out = splitLines(onLine);
  const err = splitLines(onLine);
  return (chunk, stream) => (stream === 'stdout' ? out(chunk) : err(chunk));
}

/** Turns output chunks into whole lines. */
export function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  };
}
