/**
 * Running the SIP server next to the engine. By default it gets its own worker
 * thread, so SIP parsing and timers do not share the drachtio-srf app's event
 * loop (issue 2: the app alone uses ~0.8 ms of CPU per B2BUA call); `inline`
 * runs it on the caller's thread (debugging, unit tests).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DeepReadonly } from '../config/load.js';
import type { SipServerConfig } from '../config/schema/index.js';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { collectGarbage } from '../observability/memory.js';
import type { MetricsSnapshot } from '../observability/metrics.js';
import { LagMeter } from './overload/load-source.js';
import type { ServerStatus } from './core/stats.js';
import { sipServerOptions } from './options-from-config.js';
import { SipServer } from './sip-server.js';
import type { TlsReload } from './transport/transport-layer.js';
import type { ListenerInfo } from './transport/types.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

export interface EmbeddedSipServer {
  readonly listeners: readonly ListenerInfo[];
  readonly controlPort: number;
  /** Counts and memory; with `gc`, after a full garbage collection in the server's thread. */
  status(gc?: boolean): Promise<ServerStatus>;
  /** Re-reads every TLS/WSS listener's certificate and key (SIGHUP); a listener whose new files are bad keeps the old. */
  reloadTls(): Promise<readonly TlsReload[]>;
  /** The server's Prometheus metrics (its registry's JSON, for observability/metrics.ts exposition). */
  metrics(): Promise<MetricsSnapshot>;
  /** How many times the worker was restarted after dying. */
  restarts(): number;
  /** Makes the worker exit as if it had crashed (recovery tests; inline: no effect). */
  crash(): void;
  stop(): Promise<void>;
}

export async function startEmbeddedSipServer(
  config: DeepReadonly<SipServerConfig>,
  logLevel: string,
  logger: Logger,
  baseDir: string = process.cwd(),
): Promise<EmbeddedSipServer> {
  warnWildcardUdp(config.listen, logger);
  if (config.thread === 'inline') {
    const server = new SipServer(sipServerOptions(config, logger.child({ component: 'sip-server' }), baseDir));
    const started = await server.start();
    return {
      listeners: started.listeners,
      controlPort: started.controlPort,
      status: async (gc?: boolean) => {
        if (gc === true) collectGarbage();
        return server.status();
      },
      reloadTls: () => Promise.resolve(server.reloadTls()),
      metrics: () => server.metrics.registry.getMetricsAsJSON(),
      restarts: () => 0,
      crash: () => undefined,
      stop: () => server.stop(),
    };
  }
  return startInWorker(config, logLevel, logger, baseDir);
}

/**
 * A UDP socket bound to 0.0.0.0 or :: sends from whichever local address the kernel picks for the peer,
 * which on a host with several addresses (a second network, a floating address) need not be the one the
 * request was sent to (RFC 3581 §4: a response leaves from it); Node cannot choose the source of each
 * datagram. Via and Contact then name the first external address, which one side may not reach.
 */
export function warnWildcardUdp(listen: DeepReadonly<SipServerConfig>['listen'], logger: Logger): void {
  for (const l of listen) {
    if (l.transport !== 'udp' || (l.host !== '0.0.0.0' && l.host !== '::')) continue;
    logger.warn(
      { listener: `udp/${l.host}:${l.port}` },
      'a UDP listener on a wildcard address answers from the address the kernel picks for each peer, not always the one a request was sent to, and names one address in Via and Contact: on a host with several addresses, configure one listener per address',
    );
  }
}

/** The compiled worker entry; when running from TypeScript sources (tests), the built copy under dist/. */
function workerEntry(): URL {
  const here = new URL('./worker-entry.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = fileURLToPath(import.meta.url).replace(/\/src\/sip-server\/embedded\.ts$/, '/dist/src/sip-server/worker-entry.js');
  if (existsSync(built)) return pathToFileURL(built);
  throw new SwitchboardError(ErrorCodes.SIP_TRANSPORT, 'SIP server worker entry not found: run `npm run build` first');
}

interface Spawned {
  readonly worker: Worker;
  readonly listeners: readonly ListenerInfo[];
  readonly controlPort: number;
}

/**
 * The server in a worker thread. Should the worker die (a bug), it is started
 * again on the same ports, so SIP peers and the drachtio-srf app (which
 * reconnects by itself) find it where it was; calls in progress are lost, but
 * the engine keeps taking new ones.
 */
async function startInWorker(config: DeepReadonly<SipServerConfig>, logLevel: string, logger: Logger, baseDir: string): Promise<EmbeddedSipServer> {
  const statusWaiters = new Map<number, (s: ServerStatus) => void>();
  const reloadWaiters = new Map<number, (r: readonly TlsReload[]) => void>();
  const metricsWaiters = new Map<number, (m: string) => void>();
  let nextId = 1;
  let stopping = false;
  let stopped: (() => void) | undefined;
  let restarts = 0;

  const spawn = (cfg: DeepReadonly<SipServerConfig>): Promise<Spawned> => {
    const init: WorkerInit = { config: cfg, logLevel, baseDir };
    const worker = new Worker(workerEntry(), { workerData: init });
    return new Promise<Spawned>((resolve, reject) => {
      let up = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'started':
            up = true;
            resolve({ worker, listeners: m.listeners, controlPort: m.controlPort });
            break;
          case 'failed':
            reject(new SwitchboardError(ErrorCodes.SIP_TRANSPORT, `SIP server could not start: ${m.message}`));
            void worker.terminate();
            break;
          case 'status':
            statusWaiters.get(m.id)?.(m.status);
            statusWaiters.delete(m.id);
            break;
          case 'tls-reloaded':
            reloadWaiters.get(m.id)?.(m.results);
            reloadWaiters.delete(m.id);
            break;
          case 'metrics':
            metricsWaiters.get(m.id)?.(m.metrics);
            metricsWaiters.delete(m.id);
            break;
          case 'stopped':
            stopped?.();
            break;
        }
      });
      worker.on('error', (e) => {
        if (!up) reject(e);
        else logger.error({ err: e.stack ?? e.message }, 'SIP server worker failed');
      });
      worker.once('exit', (code) => {
        if (!up) {
          reject(new SwitchboardError(ErrorCodes.SIP_TRANSPORT, `SIP server worker exited (${code})`));
          return;
        }
        if (stopping) return;
        void restart(code);
      });
    });
  };

  let current = await spawn(config);
  // Restarts reuse the ports the first start actually bound (port 0 means "any" only once).
  const pinned: DeepReadonly<SipServerConfig> = {
    ...config,
    listen: config.listen.map((l, i) => ({ ...l, port: current.listeners[i]?.port ?? l.port })),
    control: { ...config.control, port: current.controlPort },
  };

  const restart = async (code: number): Promise<void> => {
    restarts++;
    logger.error({ code, restarts }, 'SIP server worker exited unexpectedly: restarting it on the same ports');
    for (let attempt = 0; !stopping; attempt++) {
      try {
        current = await spawn(pinned);
        logger.info({ restarts }, 'SIP server worker restarted');
        return;
      } catch (e) {
        logger.error({ err: e instanceof Error ? e.message : String(e), attempt }, 'SIP server worker restart failed');
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  };

  /** Asks the worker and waits (bounded) for its answer. */
  const ask = <T>(waiters: Map<number, (v: T) => void>, message: (id: number) => ToWorker, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiters.delete(id);
        reject(new SwitchboardError(ErrorCodes.SIP_TRANSPORT, `SIP server worker did not answer a ${what} request`));
      }, 5000);
      waiters.set(id, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
      current.worker.postMessage(message(id));
    });

  // Overload control in the worker also watches this (the app's) thread: its lag is reported there.
  const lag = new LagMeter();
  const interval = config.overload.sampleIntervalMs;
  const lagReporter = setInterval(() => current.worker.postMessage({ type: 'appLag', lagMs: lag.read() } satisfies ToWorker), interval);
  lagReporter.unref();

  return {
    listeners: current.listeners,
    controlPort: current.controlPort,
    status: (gc?: boolean) => ask(statusWaiters, (id) => ({ type: 'status', id, gc: gc === true }), 'status'),
    reloadTls: () => ask(reloadWaiters, (id) => ({ type: 'reload-tls', id }), 'TLS reload'),
    metrics: async () => JSON.parse(await ask(metricsWaiters, (id) => ({ type: 'metrics', id }), 'metrics')) as MetricsSnapshot,
    restarts: () => restarts,
    crash: () => current.worker.postMessage({ type: 'crash' } satisfies ToWorker),
    stop: async () => {
      stopping = true;
      clearInterval(lagReporter);
      lag.stop();
      await new Promise<void>((resolve) => {
        stopped = resolve;
        current.worker.postMessage({ type: 'stop' } satisfies ToWorker);
        setTimeout(resolve, 3000).unref();
      });
      await current.worker.terminate();
    },
  };
}
