/**
 * The engine as a benchmark runs it: `switchboard start` in a process of its
 * own, ready when its status endpoint says the engine is connected to its SIP
 * server (polled, never a fixed sleep), its CPU time read from /proc for the
 * whole process tree, and stopped with SIGTERM (SIGKILL if it hangs).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface EngineOptions {
  readonly configFile: string;
  /** The port of `node.status` in that config. */
  readonly statusPort: number;
  /** Extra environment for the engine process (added to this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for readiness (default 60 s: a busy machine starts slowly). */
  readonly readyTimeoutMs?: number;
}

/** The parts of GET /status a benchmark reads; the rest is there too. */
export interface EngineStatus {
  readonly engine: { readonly connected: boolean; readonly liveCalls: number; readonly callsConnected: number; readonly [k: string]: unknown };
  readonly sipServer?: Readonly<Record<string, unknown>>;
  readonly process: Readonly<Record<string, unknown>>;
  readonly [k: string]: unknown;
}

export interface EngineProcess {
  readonly pid: number;
  /** GET /status; with `gc`, after a full garbage collection in every thread. */
  status(gc?: boolean): Promise<EngineStatus>;
  /** CPU time (user + system, ms) of the engine and its descendants, live and reaped. */
  cpuMs(): number;
  stop(): Promise<void>;
}

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) if (c.trim() !== '') out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** utime + stime + cutime + cstime of a process and, recursively, its live children (ticks). */
function treeTicks(pid: number): number {
  const f = statFields(pid);
  if (f === undefined) return 0;
  // After the name: state(0) ppid … utime(11) stime(12) cutime(13) cstime(14).
  let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  for (const c of childrenOf(pid)) ticks += treeTicks(c);
  return ticks;
}

export async function startEngine(o: EngineOptions): Promise<EngineProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--config', o.configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8000);
    process.stderr.write(c);
  });
  let exited: string | undefined;
  const exit = new Promise<void>((res) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      res();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('the engine did not start');

  const status = async (gc = false): Promise<EngineStatus> => {
    const r = await fetch(`http://127.0.0.1:${o.statusPort}/status${gc ? '?gc=1' : ''}`);
    if (!r.ok) throw new Error(`GET /status: ${r.status}`);
    return (await r.json()) as EngineStatus;
  };
  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  let last = 'no answer yet';
  for (;;) {
    if (exited !== undefined) throw new Error(`the engine ${exited} before it was ready:\n${stderr}`);
    try {
      const s = await status();
      if (s.engine.connected) break;
      last = 'engine not connected yet';
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the engine was not ready in time (${last}):\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid, status, cpuMs: () => (treeTicks(pid) * 1000) / TICKS_PER_SECOND, stop };
}
