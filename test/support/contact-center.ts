/**
 * The whole engine for end-to-end tests of live calls: the embedded SIP
 * server (UDP and TCP on free ports), a private rtpengine on a random port
 * range, prompts, and (optionally) the recordings worker child with its own
 * Redis delivering into a CRM folder, all under a fresh directory with the
 * configuration written to a file there (as an operator would run it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configChecks } from '../../src/app/config-checks.js';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { CallRecord } from '../../src/engine/call-record.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { eventually } from './harness.js';
import { randomPortRange } from './rtp/rtpengine-harness.js';

/** Deep-merges plain objects (arrays and scalars of `b` replace those of `a`). */
export function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof prev === 'object' && prev !== null && !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface ContactCenter {
  readonly sb: RunningSwitchboard;
  readonly dir: string;
  readonly udp: { host: string; port: number };
  readonly tcp: { host: string; port: number };
  /** Call records written so far. */
  records(): CallRecord[];
  /** Resolves with the record of the call whose SIP Call-ID is `sipCallId`, once written. */
  recordOf(sipCallId: string, timeoutMs?: number): Promise<CallRecord>;
  /** Resolves once the call whose SIP Call-ID is `sipCallId` is bridged (state `connected`). */
  bridged(sipCallId: string, timeoutMs?: number): Promise<void>;
  /** Live calls, rtpengine calls, dialogs, transactions, timers: everything a finished call must have released. */
  leftovers(): Promise<Record<string, number>>;
  /**
   * Resolves once no call, media, rtpengine call or dialog is left (bounded).
   * With `transactions`, also no SIP transaction and no timer: a UDP INVITE
   * client transaction that got a failure waits out Timer D (32 s, RFC 3261
   * §17.1.1.2), so that check belongs once at the end of a file.
   */
  settled(options?: { timeoutMs?: number; transactions?: boolean }): Promise<void>;
  /** Stops everything; `keepDir` leaves the state directory for another start (a restart). */
  stop(keepDir?: boolean): Promise<void>;
}

export interface ContactCenterOptions {
  /** Run the recordings worker child (delivery to `<dir>/crm`). */
  readonly worker?: boolean;
  /** Anchor calls at rtpengine (default true). */
  readonly media?: boolean;
  /** The state directory of an earlier start (kept with stop(true)): a restart. */
  readonly dir?: string;
  /** Ports in rtpengine's RTP range (default 400): four per concurrent anchored call (two legs, RTP and RTCP). */
  readonly rtpPorts?: number;
}

export async function startContactCenter(overrides: Record<string, unknown>, options: ContactCenterOptions = {}): Promise<ContactCenter> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sb-cc-'));
  const config = merge(
    {
      node: { stateDir: '.', logLevel: 'silent', status: { enabled: false }, recordingsWorker: options.worker === true },
      sipServer: {
        listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
        control: { port: 0 },
        // Short RFC 3261 timers: finished transactions are gone within a second or two (64·T1).
        timers: { t1Ms: 25, t2Ms: 400, t4Ms: 500 },
        // Overload control refuses new INVITEs with 503 while the machine is busy (event-loop lag,
        // CPU): right for a server, a flake for a test of something else on a busy CI machine.
        // Overload control is tested in test/sip-server/conformance/overload.test.ts.
        overload: { enabled: false },
      },
      media: { rtpengine: { embedded: { ...randomPortRange(options.rtpPorts ?? 400), threads: 2 } } },
      redis: { keyPrefix: `t${randomBytes(5).toString('hex')}` },
      recordings: {
        format: 'wav',
        enabled: options.worker === true,
        encryption: { keyId: 'test', key: randomBytes(32).toString('base64') },
        upload: { initialBackoffMs: 50, maxBackoffMs: 500, lockMs: 2000 },
        reconcileIntervalSeconds: 1,
      },
      crm: { adapter: 'directory', timeZone: 'UTC' },
    },
    overrides,
  );
  const file = join(dir, 'switchboard.yaml');
  writeFileSync(file, JSON.stringify(config, null, 1));
  let sb: RunningSwitchboard;
  try {
    // SB_TEST_LOG=debug (or info) shows the engine's log lines on stderr while debugging a test.
    const level = process.env.SB_TEST_LOG;
    const logger = level !== undefined ? createLogger({ level, name: 'test-engine', destination: process.stderr }) : silentLogger();
    sb = await startSwitchboard(loadConfigFile(file, { checks: configChecks }), logger, {
      configFile: file,
      baseDir: dir,
      media: options.media !== false,
      recordingsWorker: options.worker === true,
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const listener = (t: string): { host: string; port: number } => {
    const l = sb.sipListeners.find((x) => x.transport === t)!;
    return { host: '127.0.0.1', port: l.port };
  };
  const records = (): CallRecord[] => {
    try {
      return readFileSync(join(dir, 'calls', 'records.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as CallRecord);
    } catch {
      return [];
    }
  };
  const leftovers = async (): Promise<Record<string, number>> => {
    const status = (await sb.status()) as { sipServer?: { dialogs: number; serverTransactions: number; clientTransactions: number; timers: number; pendingAppRequests: number } };
    const listed = sb.media !== undefined ? (await sb.media.instances[0]!.client.request('list', { limit: 10_000 })).calls : [];
    const s = status.sipServer;
    return {
      calls: sb.engine.calls.size,
      media: sb.media?.activeCalls ?? 0,
      rtpengine: listed.length,
      dialogs: s?.dialogs ?? 0,
      transactions: (s?.serverTransactions ?? 0) + (s?.clientTransactions ?? 0) + (s?.pendingAppRequests ?? 0),
      timers: s?.timers ?? 0,
    };
  };
  return {
    sb,
    dir,
    udp: listener('udp'),
    tcp: listener('tcp'),
    records,
    async recordOf(sipCallId, timeoutMs = 15_000) {
      let found: CallRecord | undefined;
      await eventually(() => (found = records().find((r) => r.sipCallId === sipCallId)) !== undefined, timeoutMs, `the call record of ${sipCallId}`);
      return found!;
    },
    async bridged(sipCallId, timeoutMs = 20_000) {
      await eventually(() => sb.engine.control.list().some((c) => c.sipCallId === sipCallId && c.state === 'connected'), timeoutMs, `the call ${sipCallId} bridged`);
    },
    leftovers,
    async settled(options = {}) {
      const all = options.transactions === true;
      let last: Record<string, number> = {};
      const clear = async (): Promise<boolean> => {
        last = await leftovers();
        return Object.entries(last).every(([k, n]) => n === 0 || (!all && (k === 'transactions' || k === 'timers')));
      };
      await eventually(clear, options.timeoutMs ?? (all ? 60_000 : 30_000), () => `nothing left; still: ${JSON.stringify(last)}`);
    },
    async stop(keepDir = false) {
      await sb.stop();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
