/** Starting the real SIP server in-process for tests, with fresh ports and (optionally) short RFC timers. */
import Srf from 'drachtio-srf';
import { silentLogger } from '../../src/observability/logger.js';
import { DEFAULT_OVERLOAD } from '../../src/sip-server/overload/overload-control.js';
import { SipServer, type SipServerOptions } from '../../src/sip-server/sip-server.js';
import type { ListenerInfo, TransportProtocol } from '../../src/sip-server/transport/types.js';

export const SECRET = 'test-secret';

export interface Harness {
  readonly server: SipServer;
  readonly udp: ListenerInfo;
  readonly tcp: ListenerInfo;
  readonly controlPort: number;
  readonly listeners: readonly ListenerInfo[];
  /** The listener of a transport (throws when there is none). */
  listener(transport: TransportProtocol): ListenerInfo;
  stop(): Promise<void>;
}

export async function startServer(overrides: Partial<SipServerOptions> = {}): Promise<Harness> {
  const server = new SipServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
    timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, appResponseTimeoutMs: 64000 },
    maxMessageBytes: 65535,
    maxPendingInvites: 10000,
    cdrs: true,
    userAgent: 'switchboard-test',
    logger: silentLogger(),
    // Tests that send bursts (1,000 INVITEs at once) on a busy two-core machine would trip overload
    // control; the tests of overload control itself turn it on with an injected load source.
    overload: { ...DEFAULT_OVERLOAD, enabled: false },
    ...overrides,
  });
  const started = await server.start();
  return {
    server,
    udp: started.listeners.find((l) => l.transport === 'udp')!,
    tcp: started.listeners.find((l) => l.transport === 'tcp')!,
    controlPort: started.controlPort,
    listeners: started.listeners,
    listener: (t) => {
      const l = started.listeners.find((x) => x.transport === t);
      if (l === undefined) throw new Error(`no ${t} listener`);
      return l;
    },
    stop: () => server.stop(),
  };
}

/** Connects an unmodified drachtio-srf app and resolves once it is authenticated. */
export async function connectApp(h: Harness, setup?: (srf: Srf) => void): Promise<Srf> {
  const srf = new Srf();
  setup?.(srf);
  const verbs = routedVerbs(srf);
  const before = new Set(h.server.appRoutes().map((c) => c.id));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      disconnectApp(srf); // it would keep reconnecting to a server the test stops
      reject(new Error('app did not connect'));
    }, 15_000);
    srf.on('connect', (err: Error | null) => {
      clearTimeout(t);
      if (err) reject(err);
      else resolve();
    });
    void srf.connect({ host: '127.0.0.1', port: h.controlPort, secret: SECRET });
  });
  // drachtio-srf sends its route frames without waiting for their replies: wait until the server has them.
  // The only connection made meanwhile is this app's.
  const registered = (): boolean => h.server.appRoutes().some((c) => !before.has(c.id) && verbs.every((v) => c.routes.includes(v.toLowerCase())));
  try {
    await eventually(registered, 15_000, () => `the server to register the routes ${verbs.join(', ')}`);
  } catch (e) {
    disconnectApp(srf);
    throw e;
  }
  return srf;
}

/** The SIP methods an app routed (drachtio-srf keeps them on its connect app, `srf.app.routedMethods`). */
function routedVerbs(srf: Srf): string[] {
  const app = (srf as unknown as { app?: { routedMethods?: Record<string, boolean> } }).app;
  if (app?.routedMethods === undefined) throw new Error('drachtio-srf keeps its routes elsewhere now (srf.app.routedMethods): update connectApp');
  return Object.keys(app.routedMethods);
}

export function disconnectApp(srf: Srf): void {
  try {
    srf.disconnect();
  } catch {
    // already gone
  }
}

/** Polls `fn` until it returns true (bounded). */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000, what: string | (() => string) = 'condition', pollMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** drachtio-srf's Dialog has an `id` its typings omit. */
export function dialogIdOf(d: object): string {
  return (d as { id: string }).id;
}

/** True while a process with this pid exists (signal 0 only checks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
