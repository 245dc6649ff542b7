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
import type { ServerStatus } from './core/stats.js';
import { sipServerOptions } from './options-from-config.js';
import { SipServer } from './sip-server.js';
import type { ListenerInfo } from './transport/types.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

export interface EmbeddedSipServer {
  readonly listeners: readonly ListenerInfo[];
  readonly controlPort: number;
  /** Counts and memory; with `gc`, after a full garbage collection in the server's thread. */
  status(gc?: boolean): Promise<ServerStatus>;
  stop(): Promise<void>;
}

export async function startEmbeddedSipServer(
  config: DeepReadonly<SipServerConfig>,
  logLevel: string,
  logger: Logger,
): Promise<EmbeddedSipServer> {
  if (config.thread === 'inline') {
    const server = new SipServer(sipServerOptions(config, logger.child({ component: 'sip-server' })));
    const started = await server.start();
    return {
      listeners: started.listeners,
      controlPort: started.controlPort,
      status: async (gc?: boolean) => {
        if (gc === true) collectGarbage();
        return server.status();
      },
      stop: () => server.stop(),
    };
  }
  return startInWorker(config, logLevel);
}

/** The compiled worker entry; when running from TypeScript sources (tests), the built copy under dist/. */
function workerEntry(): URL {
  const here = new URL('./worker-entry.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = fileURLToPath(import.meta.url).replace(/\/src\/sip-server\/embedded\.ts$/, '/dist/src/sip-server/worker-entry.js');
  if (existsSync(built)) return pathToFileURL(built);
  throw new SwitchboardError(ErrorCodes.SIP_TRANSPORT, 'SIP server worker entry not found: run `npm run build` first');
}

async function startInWorker(config: DeepReadonly<SipServerConfig>, logLevel: string): Promise<EmbeddedSipServer> {
  const init: WorkerInit = { config, logLevel };
  const worker = new Worker(workerEntry(), { workerData: init });
  const statusWaiters = new Map<number, (s: ServerStatus) => void>();
  let nextId = 1;
  let stopped: (() => void) | undefined;
  const started = await new Promise<{ listeners: readonly ListenerInfo[]; controlPort: number }>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'started':
          resolve(m);
          break;
        case 'failed':
          reject(new SwitchboardError(ErrorCodes.SIP_TRANSPORT, `SIP server could not start: ${m.message}`));
          void worker.terminate();
          break;
        case 'status':
          statusWaiters.get(m.id)?.(m.status);
          statusWaiters.delete(m.id);
          break;
        case 'stopped':
          stopped?.();
          break;
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new SwitchboardError(ErrorCodes.SIP_TRANSPORT, `SIP server worker exited (${code})`)));
  });
  const send = (m: ToWorker): void => worker.postMessage(m);
  return {
    listeners: started.listeners,
    controlPort: started.controlPort,
    status: (gc?: boolean) =>
      new Promise<ServerStatus>((resolve) => {
        const id = nextId++;
        statusWaiters.set(id, resolve);
        send({ type: 'status', id, gc: gc === true });
      }),
    stop: async () => {
      await new Promise<void>((resolve) => {
        stopped = resolve;
        send({ type: 'stop' });
        setTimeout(resolve, 3000).unref();
      });
      await worker.terminate();
    },
  };
}
