/**
 * The engine as a benchmark runs it: `switchboard start` in its own process,
 * ready when its status endpoint says the engine is connected (never after a
 * fixed sleep), with the CPU time of its whole process tree (the engine's
 * threads, rtpengine, the recordings worker and what they ran) read from /proc.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface EngineStatus {
  readonly engine: { readonly connected: boolean; readonly liveCalls: number; readonly [k: string]: unknown };
  readonly sipServer?: { readonly [k: string]: number };
  readonly media?: { readonly activeCalls: number; readonly rtpengine: readonly { readonly healthy: boolean }[] };
  readonly process: { readonly rssBytes: number; readonly heapUsedBytes: number };
}

export interface EngineProcess {
  readonly pid: number;
  status(gc?: boolean): Promise<EngineStatus>;
  /** CPU time (user + system, ms) of the engine and every process under it, including reaped children. */
  cpuMs(): number;
  /** CPU time (ms) of the processes under the engine whose command starts with `name` (e.g. rtpengine). */
  cpuMsOf(name: string): number;
  /** The engine and every process under it now (pid and command name). */
  processes(): { readonly pid: number; readonly comm: string }[];
  stop(): Promise<void>;
}

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime + cutime + cstime, in ms */
  readonly cpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // fields after the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 1-based from state
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { pid, ppid: Number(f[1]), comm, cpuMs: ticks * TICK_MS };
  } catch {
    return undefined; // gone
  }
}

function tree(rootPid: number): ProcStat[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== undefined);
  const out: ProcStat[] = [];
  const want = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) {
      if (!want.has(s.pid) && want.has(s.ppid)) {
        want.add(s.pid);
        grew = true;
      }
    }
  }
  for (const s of all) if (want.has(s.pid)) out.push(s);
  return out;
}

async function getJson(port: number, path: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** `nodeArgs`: options for node itself, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] to profile every thread (not allowed in NODE_OPTIONS). */
export async function startEngine(o: { configFile: string; statusPort: number; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; readyTimeoutMs?: number }): Promise<EngineProcess> {
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), resolve(root, 'dist/src/cli/main.js'), 'start', '--config', o.configFile], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...o.env },
  });
  let exited: string | undefined;
  const gone = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      r();
    }),
  );
  const status = async (gc = false): Promise<EngineStatus> => (await getJson(o.statusPort, `/status${gc ? '?gc=1' : ''}`)) as EngineStatus;
  const end = Date.now() + (o.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`the engine ${exited} before it was ready`);
    const s = await status().catch(() => undefined);
    if (s?.engine.connected === true && (s.media === undefined || s.media.rtpengine.every((r) => r.healthy))) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error('the engine was not ready in time');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    pid,
    status,
    cpuMs: () => tree(pid).reduce((sum, s) => sum + s.cpuMs, 0),
    cpuMsOf: (name) => tree(pid).filter((s) => s.pid !== pid && s.comm.startsWith(name)).reduce((sum, s) => sum + s.cpuMs, 0),
    processes: () => tree(pid).map((s) => ({ pid: s.pid, comm: s.comm })),
    stop: async () => {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await gone;
      clearTimeout(t);
    },
  };
}
