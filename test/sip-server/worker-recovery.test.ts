/**
 * The SIP server in its worker thread: if the worker dies it comes back on the
 * same ports, and drachtio-srf (which reconnects by itself) finds it again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startEmbeddedSipServer, type EmbeddedSipServer } from '../../src/sip-server/embedded.js';
import { eventually } from '../support/harness.js';
import { request, SipPeer } from '../support/sip-peer.js';

let server: EmbeddedSipServer | undefined;
afterEach(async () => {
  await server?.stop();
});

describe('SIP server worker thread', () => {
  it('restarts on the same ports after a crash and serves the reconnected app again', async () => {
    const config = loadConfigObject({ sipServer: { thread: 'worker', listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0, secret: 's' } } });
    server = await startEmbeddedSipServer(config.sipServer, 'silent', silentLogger());
    const port = server.listeners[0]!.port;
    const srf = new Srf();
    // While the worker restarts, drachtio-srf's reconnect attempts are refused (ECONNREFUSED) and it
    // emits them as 'error': an EventEmitter without a listener would throw them (the engine has one too).
    srf.on('error', () => undefined);
    srf.use('options', (_req, res) => res.send(200));
    await new Promise<void>((resolve) => {
      srf.on('connect', () => resolve());
      void srf.connect({ host: '127.0.0.1', port: server!.controlPort, secret: 's' });
    });
    const peer = await SipPeer.create('udp');
    try {
      await eventually(async () => {
        await peer.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${port}`, peer }), { port });
        return peer.waitResponse(200, 'OPTIONS', 300).then(() => true, () => false);
      }, 5000, 'first OPTIONS answered');
      server.crash();
      await eventually(() => server!.restarts() === 1, 10_000, 'worker restart');
      expect(server.listeners[0]!.port).toBe(port);
      await eventually(async () => {
        await peer.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${port}`, peer }), { port });
        return peer.waitResponse(200, 'OPTIONS', 300).then(() => true, () => false);
      }, 10_000, 'OPTIONS answered after the restart');
      expect((await server.status()).appConnections).toBe(1);
    } finally {
      await peer.close();
      srf.disconnect();
    }
  }, 60_000);
});
