/** Messages between the main thread and the SIP server's worker thread. */
import type { DeepReadonly } from '../config/load.js';
import type { SipServerConfig } from '../config/schema/index.js';
import type { ServerStatus } from './core/stats.js';
import type { TlsReload } from './transport/transport-layer.js';
import type { ListenerInfo } from './transport/types.js';

export interface WorkerInit {
  readonly config: DeepReadonly<SipServerConfig>;
  readonly logLevel: string;
  /** Relative paths in the config (certificate files) resolve against this. */
  readonly baseDir: string;
}

export type ToWorker =
  | { readonly type: 'status'; readonly id: number; readonly gc?: boolean }
  /** The server's Prometheus registry as JSON (observability/metrics.ts). */
  | { readonly type: 'metrics'; readonly id: number }
  /** The app (main) thread's event-loop lag, for overload control (ms). */
  | { readonly type: 'appLag'; readonly lagMs: number }
  | { readonly type: 'stop' }
  /** Re-read the TLS certificates and keys (SIGHUP). */
  | { readonly type: 'reload-tls'; readonly id: number }
  /** Exit at once, as a crash would (to check that the server comes back). */
  | { readonly type: 'crash' };

export type FromWorker =
  | { readonly type: 'started'; readonly listeners: readonly ListenerInfo[]; readonly controlPort: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'status'; readonly id: number; readonly status: ServerStatus }
  | { readonly type: 'tls-reloaded'; readonly id: number; readonly results: readonly TlsReload[] }
  /** `metrics`: JSON text of `registry.getMetricsAsJSON()`. */
  | { readonly type: 'metrics'; readonly id: number; readonly metrics: string }
  | { readonly type: 'stopped' };
