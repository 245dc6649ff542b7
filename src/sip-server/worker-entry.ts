/** Entry point of the SIP server's worker thread: its own event loop, on the other core. */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../observability/logger.js';
import { collectGarbage } from '../observability/memory.js';
import { sipServerOptions } from './options-from-config.js';
import { QuietCollector } from '../observability/quiet-collector.js';
import { SipServer } from './sip-server.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);
const logger = createLogger({ level: init.logLevel, name: 'sip-server' });

let server: SipServer | undefined;
try {
  server = new SipServer(sipServerOptions(init.config, logger, init.baseDir));
} catch (e) {
  // Unreadable TLS files and the like: say why instead of dying with a stack.
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
}

// This thread has no memory reducer of its own (see observability/quiet-collector.ts).
const quiet =
  server === undefined
    ? undefined
    : new QuietCollector({
        messages: () => server.status().messagesIn,
        inFlight: () => {
          const s = server.status();
          return s.serverTransactions + s.clientTransactions + s.dialogs;
        },
        collect: () => {
          const before = process.memoryUsage().heapTotal;
          if (!collectGarbage()) return;
          const after = process.memoryUsage().heapTotal;
          logger.info({ heapTotalMb: [Math.round(before / 1048576), Math.round(after / 1048576)] }, 'load fell: full collection gave heap back');
        },
      });

server?.start().then(
  (started) => {
    quiet?.start();
    post({ type: 'started', listeners: started.listeners, controlPort: started.controlPort });
  },
  (e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e) }),
);

port.on('message', (m: ToWorker) => {
  if (server === undefined) return;
  if (m.type === 'status') {
    if (m.gc === true) collectGarbage();
    post({ type: 'status', id: m.id, status: server.status() });
  } else if (m.type === 'reload-tls') post({ type: 'tls-reloaded', id: m.id, results: server.reloadTls() });
  else if (m.type === 'appLag') server.reportAppLag(m.lagMs);
  else if (m.type === 'metrics') {
    void server.metrics.registry.getMetricsAsJSON().then((json) => post({ type: 'metrics', id: m.id, metrics: JSON.stringify(json) }));
  }
  else if (m.type === 'crash') process.exit(70);
  else if (m.type === 'stop') {
    quiet?.stop();
    void server.stop().then(() => {
      post({ type: 'stopped' });
      port.close();
    });
  }
});
