/**
 * Running SIPp (Debian's sip-tester) as a real peer: one process per role,
 * with its statistics file read back so tests can assert exact call counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SCENARIOS = resolve(import.meta.dirname, '../sipp');

export interface SippStats {
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  readonly raw: Record<string, string>;
}

export interface SippResult {
  readonly code: number | null;
  readonly stats: SippStats;
  readonly output: string;
  /** Every message sent and received (with `traceMessages`), as SIPp logs them. */
  readonly messages: string;
}

export interface SippRun {
  readonly done: Promise<SippResult>;
  readonly child: ChildProcess;
  kill(): void;
}

/** A free port on 127.0.0.1 for both UDP and TCP (best effort: bound and released). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((res) => {
      const u = createSocket('udp4');
      u.once('error', () => res(false));
      u.bind(port, '127.0.0.1', () => u.close(() => res(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

function parseStats(file: string): SippStats {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { created: 0, successful: 0, failed: 0, raw: {} };
  }
  const lines = text.trim().split('\n');
  const head = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const raw: Record<string, string> = {};
  head.forEach((h, i) => (raw[h] = last[i] ?? ''));
  const num = (k: string): number => Number(raw[k] ?? 0);
  return { created: num('TotalCallCreated'), successful: num('SuccessfulCall(C)'), failed: num('FailedCall(C)'), raw };
}

export interface SippOptions {
  readonly scenario: string;
  /** host:port of the peer, for a UAC; omitted for a UAS. */
  readonly remote?: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  readonly calls: number;
  readonly rate?: number;
  readonly service?: string;
  readonly pauseMs?: number;
  readonly timeoutSec?: number;
  readonly extra?: readonly string[];
  /** SIPp's working directory (files a scenario names, e.g. audio to stream); a fresh one by default. */
  readonly cwd?: string;
  /** The local address SIPp binds and writes into its messages (default 127.0.0.1; any of 127/8 works on Linux). */
  readonly localIp?: string;
  /** Keep the message log (SIPp -trace_msg) for the result's `messages`. */
  readonly traceMessages?: boolean;
}

export function runSipp(o: SippOptions): SippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sb-sipp-'));
  const statFile = join(dir, 'stats.csv');
  const args = [
    ...(o.remote !== undefined ? [o.remote] : []),
    '-sf', join(SCENARIOS, o.scenario),
    '-i', o.localIp ?? '127.0.0.1',
    '-p', String(o.port),
    '-t', o.transport === 'udp' ? 'u1' : 't1',
    '-m', String(o.calls),
    '-r', String(o.rate ?? 20),
    '-s', o.service ?? '1000',
    '-d', String(o.pauseMs ?? 100),
    '-timeout', `${o.timeoutSec ?? 20}s`,
    '-timeout_error',
    '-max_retrans', '10',
    '-nostdin',
    '-trace_stat', '-stf', statFile,
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    ...(o.traceMessages === true ? ['-trace_msg', '-message_file', join(dir, 'messages.log')] : []),
    ...(o.extra ?? []),
  ];
  const child = spawn('sipp', args, { cwd: o.cwd ?? dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  const done = new Promise<SippResult>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code) => {
      const stats = parseStats(statFile);
      let errors = '';
      try {
        errors = readFileSync(join(dir, 'errors.log'), 'utf8').slice(-4000);
      } catch {
        // no errors file
      }
      let messages = '';
      try {
        messages = readFileSync(join(dir, 'messages.log'), 'utf8');
      } catch {
        // not traced
      }
      rmSync(dir, { recursive: true, force: true });
      res({ code, stats, output: `${output}\n${errors}`, messages });
    });
  });
  return { done, child, kill: () => child.kill('SIGKILL') };
}

export function describeRun(r: SippResult): string {
  return `exit ${r.code}, created ${r.stats.created}, successful ${r.stats.successful}, failed ${r.stats.failed}\n${r.output.slice(-3000)}`;
}

export interface SippMessage {
  readonly direction: 'sent' | 'received';
  readonly text: string;
}

/** The messages of a SIPp message log (-trace_msg), in order. */
export function sippMessages(log: string): SippMessage[] {
  return log
    .split(/^-{10,}[^\n]*\n/m)
    .map((block) => /^(?:UDP|TCP|TLS) message (sent|received)[^\n]*\n\n([\s\S]*)$/.exec(block))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ direction: m[1] as 'sent' | 'received', text: m[2]! }));
}

/** For a UAC's log: the final status each call's INVITE got, by Call-ID, with the response's text. */
export function inviteOutcomes(log: string): Map<string, { status: number; text: string }> {
  const out = new Map<string, { status: number; text: string }>();
  for (const m of sippMessages(log)) {
    if (m.direction !== 'received') continue;
    const status = /^SIP\/2\.0 (\d{3})/.exec(m.text)?.[1];
    const callId = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
    if (status === undefined || callId === undefined || Number(status) < 200 || !/^CSeq:\s*\d+\s+INVITE/im.test(m.text)) continue;
    if (!out.has(callId)) out.set(callId, { status: Number(status), text: m.text });
  }
  return out;
}
