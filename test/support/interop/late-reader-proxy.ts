/**
 * A TCP relay for the drachtio control channel that hands the app what the
 * server wrote in batches, every `batchMs`: what a busy app sees when it
 * reads its socket late, several frames (a response echo and the next
 * in-dialog request, say) arriving in one read. App-to-server bytes pass at
 * once.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class LateReaderProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }, batchMs: number): Promise<LateReaderProxy> {
    const sockets = new Set<Socket>();
    const server = createServer((app) => {
      const upstream = createConnection(target);
      sockets.add(app).add(upstream);
      let pending: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      upstream.on('data', (chunk: Buffer) => {
        pending.push(chunk);
        timer ??= setTimeout(() => {
          timer = undefined;
          const batch = Buffer.concat(pending);
          pending = [];
          if (!app.destroyed) app.write(batch);
        }, batchMs);
      });
      app.on('data', (chunk: Buffer) => upstream.write(chunk));
      const close = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        app.destroy();
        upstream.destroy();
        sockets.delete(app);
        sockets.delete(upstream);
      };
      for (const s of [app, upstream]) {
        s.on('close', close);
        s.on('error', close);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    return new LateReaderProxy(server, sockets, typeof address === 'object' && address !== null ? address.port : 0);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
