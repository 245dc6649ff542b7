/**
 * baresip (Debian's `baresip-core`) as a real SIP user agent: headless, with
 * a generated config directory (loopback only, no registration, no sound
 * card: the aubridge module stands in for the audio device), driven and
 * observed through its ctrl_tcp control socket (netstring-framed JSON
 * commands, responses and call events). `-t` bounds its lifetime even if a
 * test dies before stopping it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SupervisedProcess } from '../../../src/daemon/supervised-process.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { freePort } from '../sipp.js';
import { LineEvents } from './line-events.js';
import { encodeNetstring, NetstringDecoder } from './netstring.js';

/** A call event from ctrl_tcp (`{"event":true,"type":"CALL_ESTABLISHED",…}`). */
export interface BaresipEvent {
  readonly type: string;
  readonly peeruri: string;
  readonly param: string;
  readonly direction: string;
}

export interface BaresipOptions {
  /** The user part of its address, e.g. `agent`. */
  readonly user: string;
  /** `auto`: answers incoming calls at once (an agent); `manual`: rings until told (a caller). */
  readonly answer: 'auto' | 'manual';
  /** Upper bound on its lifetime, in seconds. */
  readonly lifetimeSec?: number;
  /** SIP over TLS: a PEM file holding its certificate and key, and the CA it trusts. */
  readonly tls?: { readonly certificateWithKey: string; readonly ca: string };
  /** Register with a registrar (its address is the account's domain) with digest credentials. */
  readonly register?: { readonly host: string; readonly port: number; readonly transport: 'udp' | 'tcp'; readonly password: string; readonly regintSeconds?: number };
}

interface CommandResponse {
  readonly ok: boolean;
  readonly data: string;
}

export class Baresip {
  readonly events = new LineEvents<BaresipEvent>();
  private readonly decoder = new NetstringDecoder();
  private readonly pending = new Map<string, (r: CommandResponse) => void>();
  private nextToken = 1;

  private constructor(
    readonly user: string,
    readonly sipPort: number,
    private readonly dir: string,
    private readonly process: SupervisedProcess,
    private readonly control: Socket,
  ) {
    control.on('data', (chunk: Buffer) => {
      for (const text of this.decoder.push(chunk)) this.onControlMessage(text);
    });
    control.on('error', () => undefined);
  }

  /** Its SIP address (UDP unless `tcp`, or `tls`: libre listens for TLS on the SIP port + 1). */
  uri(transport: 'udp' | 'tcp' | 'tls' = 'udp'): string {
    if (transport === 'tls') return `sip:${this.user}@127.0.0.1:${this.sipPort + 1};transport=tls`;
    return `sip:${this.user}@127.0.0.1:${this.sipPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    let lastError: unknown;
    // Ports found free can be taken before baresip binds them: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await Baresip.startOnce(o, await freeSipPort(), await freePort());
      } catch (e) {
        lastError = e;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private static async startOnce(o: BaresipOptions, sipPort: number, ctrlPort: number): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-baresip-'));
    writeFileSync(join(dir, 'config'), configFile(sipPort, ctrlPort, o.user, o.tls));
    const r = o.register;
    const account =
      r === undefined
        ? `<sip:${o.user}@127.0.0.1:${sipPort}>;regint=0;answermode=${o.answer}`
        : `<sip:${o.user}@${r.host}:${r.port};transport=${r.transport}>;auth_pass=${r.password};regint=${r.regintSeconds ?? 60};answermode=${o.answer}`;
    writeFileSync(join(dir, 'accounts'), `${account}\n`);
    writeFileSync(join(dir, 'contacts'), '');
    const process = new SupervisedProcess({
      name: `baresip ${o.user}`,
      command: 'baresip',
      args: ['-f', dir, '-t', String(o.lifetimeSec ?? 120)],
      processGroup: true,
      restart: { enabled: false },
      readyTimeoutMs: 8000,
      probeIntervalMs: 50,
      ready: () => canConnect(ctrlPort),
      logger: silentLogger(),
    });
    try {
      await process.start();
      const control = await connect(ctrlPort);
      return new Baresip(o.user, sipPort, dir, process, control);
    } catch (e) {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private onControlMessage(text: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const str = (k: string): string => (typeof m[k] === 'string' ? (m[k]) : '');
    if (m.response === true) {
      const done = this.pending.get(str('token'));
      this.pending.delete(str('token'));
      done?.({ ok: m.ok === true, data: str('data') });
    } else if (m.event === true) {
      this.events.push({ type: str('type'), peeruri: str('peeruri'), param: str('param'), direction: str('direction') });
    }
  }

  /** Runs a menu command (`dial`, `hangup`, `accept`, …) and resolves with baresip's answer. */
  command(command: string, params = '', timeoutMs = 5000): Promise<CommandResponse> {
    const token = `t${this.nextToken++}`;
    return new Promise<CommandResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ${this.user}: no answer to "${command}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.control.write(encodeNetstring(JSON.stringify({ command, params, token })));
    });
  }

  /** Waits for a call event of `type` (seen since event index `from`). */
  waitEvent(type: string, timeoutMs = 10_000, from = 0): Promise<BaresipEvent> {
    return this.events.waitFor((e) => e.type === type, timeoutMs, `baresip ${this.user} ${type}`, from);
  }

  /** baresip's console output (for failure messages). */
  output(): string {
    return this.process.outputTail();
  }

  async stop(): Promise<void> {
    this.control.destroy();
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function configFile(sipPort: number, ctrlPort: number, name: string, tls: BaresipOptions['tls']): string {
  return [
    ...(tls !== undefined ? [`sip_certificate ${tls.certificateWithKey}`, `sip_cafile ${tls.ca}`] : []),
    '# Generated for Switchboard interop tests: loopback only, no sound card.',
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'net_interface 127.0.0.1',
    'call_local_timeout 30',
    'call_max_calls 4',
    `audio_player aubridge,${name}`,
    `audio_source aubridge,${name}`,
    `audio_alert aubridge,${name}-alert`,
    'rtp_ports 40000-49999',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aubridge.so',
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    '',
  ].join('\n');
}

/** baresip also listens for TLS on the SIP port + 1: both must be free. */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (p < 65535 && (await tcpFree(p + 1))) return p;
  }
  throw new Error('no free port pair for baresip');
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

async function canConnect(port: number): Promise<boolean> {
  try {
    (await connect(port)).destroy();
    return true;
  } catch {
    return false;
  }
}
