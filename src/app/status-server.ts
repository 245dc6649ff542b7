/**
 * The read-only status endpoint: GET /status (JSON), GET /metrics (Prometheus
 * text exposition from prom-client, see observability/metrics.ts), GET /calls
 * (live calls). Numbers the leak tests and load testers watch: transactions,
 * dialogs, pending requests, memory.
 */
import { createServer, type Server } from 'node:http';

/** `gc` asks for a full garbage collection before memory is read (leak hunting). */
export type StatusSource = (gc?: boolean) => Promise<Record<string, unknown>>;

export interface StatusServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** The Prometheus exposition: its content type and text. */
export type MetricsSource = () => Promise<{ contentType: string; body: string }>;

export async function startStatusServer(
  host: string,
  port: number,
  status: StatusSource,
  calls: () => unknown[],
  metrics: MetricsSource,
): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') {
      send(405, 'application/json', JSON.stringify({ error: 'only GET is supported' }));
      return;
    }
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (path === '/status') {
      status(new URLSearchParams(query).get('gc') === '1').then(
        (s) => send(200, 'application/json', `${JSON.stringify(s, null, 2)}\n`),
        (e: unknown) => send(500, 'application/json', JSON.stringify({ error: e instanceof Error ? e.message : String(e) })),
      );
    } else if (path === '/metrics') {
      metrics().then(
        (m) => send(200, m.contentType, m.body),
        (e: unknown) => send(500, 'text/plain', String(e)),
      );
    } else if (path === '/calls') {
      send(200, 'application/json', `${JSON.stringify(calls(), null, 2)}\n`);
    } else {
      send(404, 'application/json', JSON.stringify({ error: `no such resource: ${path}; try /status, /metrics or /calls` }));
    }
  });
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
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
