/**
 * The read-only status endpoint: GET /status (JSON), GET /metrics (Prometheus
 * text exposition from prom-client, see observability/metrics.ts), GET /calls
 * (live calls). Numbers the leak tests and load testers watch: transactions,
 * dialogs, pending requests, memory.
 *
 * It listens from the first moment of the start, before the SIP server,
 * rtpengine and Redis are up (tens of seconds on a loaded machine), and until
 * the last moment of the stop: meanwhile every path answers 503 with
 * Retry-After and `{"state":"starting","step":...}` (or `"stopping"`), so an
 * orchestrator or a load test tells an engine on its way from a dead one.
 * Once serving, /status carries `"state":"ready"`. While it drains (SIGTERM:
 * new calls refused, live ones finishing) /status answers 503 with
 * `"state":"draining"` and the whole status (the calls left), so a readiness
 * probe takes the node out as the SIP side does; /metrics and /calls still
 * answer 200.
 */
import { createServer, type Server } from 'node:http';

/** `gc` asks for a full garbage collection before memory is read (leak hunting). */
export type StatusSource = (gc?: boolean) => Promise<Record<string, unknown>>;

/** The Prometheus exposition: its content type and text. */
export type MetricsSource = () => Promise<{ contentType: string; body: string }>;

export interface StatusSources {
  readonly status: StatusSource;
  readonly calls: () => unknown[];
  readonly metrics: MetricsSource;
}

export interface StatusServer {
  readonly port: number;
  /** Still starting: what is being started now (named in the 503's body). */
  starting(step: string): void;
  /** Serving the engine's status from now on. */
  serve(sources: StatusSources): void;
  /** Refusing new calls while live ones finish: /status 503 "draining" with the status, the rest served. */
  draining(): void;
  /** On the way out: 503 "stopping" until stop(). */
  stopping(): void;
  stop(): Promise<void>;
}

type Phase =
  | { readonly state: 'starting'; readonly step: string }
  | { readonly state: 'ready' | 'draining'; readonly sources: StatusSources }
  | { readonly state: 'stopping' };

/** An idle status connection is closed after this long; a request must arrive whole within it. */
export const STATUS_IDLE_MS = 30_000;
/** Connections the status endpoint takes at once (probes, scrapers). */
export const STATUS_MAX_CONNECTIONS = 256;

export async function startStatusServer(host: string, port: number): Promise<StatusServer> {
  let phase: Phase = { state: 'starting', step: 'configuration' };
  const since = Date.now();
  const server: Server = createServer((req, res) => {
    const send = (code: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    if (req.method !== 'GET') {
      send(405, 'application/json', JSON.stringify({ error: 'only GET is supported' }), { allow: 'GET' });
      return;
    }
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (path !== '/status' && path !== '/metrics' && path !== '/calls') {
      send(404, 'application/json', JSON.stringify({ error: `no such resource: ${path}; try /status, /metrics or /calls` }));
      return;
    }
    const p = phase;
    if (p.state !== 'ready' && p.state !== 'draining') {
      const body = p.state === 'starting' ? { state: 'starting', step: p.step, seconds: Math.round((Date.now() - since) / 1000) } : { state: 'stopping' };
      send(503, 'application/json', `${JSON.stringify(body)}\n`, { 'retry-after': '1' });
      return;
    }
    const { status, calls, metrics } = p.sources;
    if (path === '/status') {
      status(new URLSearchParams(query).get('gc') === '1').then(
        (s) => send(p.state === 'ready' ? 200 : 503, 'application/json', `${JSON.stringify({ state: p.state, ...s }, null, 2)}\n`),
        (e: unknown) => send(500, 'application/json', JSON.stringify({ error: e instanceof Error ? e.message : String(e) })),
      );
    } else if (path === '/metrics') {
      metrics().then(
        (m) => send(200, m.contentType, m.body),
        (e: unknown) => send(500, 'text/plain', String(e)),
      );
    } else {
      send(200, 'application/json', `${JSON.stringify(calls(), null, 2)}\n`);
    }
  });
  // Probes and scrapers make short requests: an idle or trickling connection is closed, and only so many
  // are open at once, so that nobody who reaches the port can use up the files the SIP server shares.
  server.setTimeout(STATUS_IDLE_MS);
  server.requestTimeout = STATUS_IDLE_MS;
  server.headersTimeout = STATUS_IDLE_MS;
  server.maxConnections = STATUS_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : port,
    starting: (step) => {
      if (phase.state === 'starting') phase = { state: 'starting', step };
    },
    serve: (sources) => {
      if (phase.state === 'starting') phase = { state: 'ready', sources };
    },
    draining: () => {
      if (phase.state === 'ready') phase = { state: 'draining', sources: phase.sources };
    },
    stopping: () => {
      phase = { state: 'stopping' };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
