/**
 * SIP over TLS with a real Kamailio (its TLS module, mutual certificate
 * verification) and an unmodified drachtio-srf app on the server:
 * - a SIPp caller on UDP → Kamailio → TLS → the server (Kamailio is the TLS
 *   client and presents its certificate, which the server verifies and gives
 *   to the admission hook);
 * - the server → TLS → Kamailio: an OPTIONS to Kamailio itself, and a call
 *   through Kamailio (as outbound proxy, record-routing) to a SIPp agent,
 *   whose ACK and BYE take the recorded route back over TLS;
 * - certificates the other side must refuse, both ways: the call fails, the
 *   app gets 503, and the server keeps serving.
 */
import type Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/sip-server/transport/types.js';
import { connectApp, disconnectApp, startServer, type Harness } from '../support/harness.js';
import { Kamailio } from '../support/interop/kamailio.js';
import { kamailioTlsScript } from '../support/interop/kamailio-tls-config.js';
import { sdp } from '../support/sip-peer.js';
import { describeRun, freePort, runSipp } from '../support/sipp.js';
import { sendRequest } from '../support/srf-request.js';
import { waitForBound } from '../support/interop/port-ready.js';
import { TestPki, type CertFiles } from '../support/tls-certs.js';

let pki: TestPki;
let h: Harness;
let srf: Srf;
let kam: Kamailio;
let kamTls = 0;
const admitted: Flow[] = [];
const invites: { protocol: string; source: string }[] = [];

async function startKamailio(cert: CertFiles): Promise<{ kam: Kamailio; tlsPort: number }> {
  const tlsPort = await freePort();
  const k = await Kamailio.start({
    engines: [],
    lifetimeSec: 120,
    script: kamailioTlsScript({ tlsPort, engine: `sip:127.0.0.1:${h.listener('tls').port};transport=tls`, cert: cert.cert, key: cert.key, ca: pki.ca.cert }),
  });
  return { kam: k, tlsPort };
}

beforeAll(async () => {
  pki = await TestPki.create();
  const server = await pki.issue('server', { cn: 'switchboard.test', san: ['URI:sip:localhost', 'IP:127.0.0.1'] });
  h = await startServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, verifyClient: 'required', verifyServer: true, minVersion: 'TLSv1.2' } },
    ],
    timers: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, appResponseTimeoutMs: 10_000 },
    admission: (_req, flow) => {
      admitted.push(flow);
      return undefined;
    },
  });
  srf = await connectApp(h, (app) => {
    app.invite((req, res) => {
      const r = req as unknown as { protocol: string; source_address: string };
      invites.push({ protocol: r.protocol, source: r.source_address });
      void app.createUAS(req, res, { localSdp: sdp(9100) }).catch(() => undefined);
    });
  });
  const started = await startKamailio(await pki.issue('kamailio', { cn: 'kamailio.test', san: ['URI:sip:localhost', 'IP:127.0.0.1'] }));
  kam = started.kam;
  kamTls = started.tlsPort;
}, 60_000);

afterAll(async () => {
  disconnectApp(srf);
  await kam?.stop();
  await h?.stop();
  pki?.cleanup();
});

describe('Kamailio (TLS module) and the server, certificates verified both ways', () => {
  it('a caller through Kamailio reaches the app over TLS; Kamailio’s verified identity is known; the call completes', async () => {
    const port = await freePort();
    const r = await runSipp({ scenario: 'uac-basic.xml', remote: `127.0.0.1:${kam.port}`, port, transport: 'udp', calls: 2, service: '2000', pauseMs: 200 }).done;
    expect(r.stats.successful, `${describeRun(r)}\n${kam.output()}`).toBe(2);
    expect(invites.at(-1)).toEqual({ protocol: 'tls', source: '127.0.0.1' });
    const fromKamailio = admitted.filter((f) => f.transport === 'tls');
    expect(fromKamailio.length).toBeGreaterThanOrEqual(2);
    expect(fromKamailio[0]!.tlsPeer).toMatchObject({ verified: true, subjectCN: 'kamailio.test', identities: ['localhost'] });
    // ACK and BYE came back along Kamailio's recorded route, over TLS.
    expect(kam.requests((e) => e.kind === 'in-dialog' && e.method === 'BYE' && e.proto === 'udp')).toBe(2);
  });

  it('an OPTIONS from the app to sips:kamailio@localhost is answered by Kamailio, which required our certificate', async () => {
    const res = await sendRequest(srf, `sips:kamailio@localhost:${kamTls}`, 'OPTIONS');
    expect(res.status, kam.output()).toBe(200);
    expect(res.protocol).toBe('tls');
    expect(kam.requests((e) => e.kind === 'options' && e.proto === 'tls')).toBeGreaterThanOrEqual(1);
  });

  it('a call from the app through Kamailio (outbound proxy over TLS) to a SIPp agent: ACK and BYE follow the route', async () => {
    const agentPort = await freePort();
    const agent = runSipp({ scenario: 'uas-answer.xml', port: agentPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    try {
      await waitForBound(agentPort, 'udp', 'SIPp agent listening');
      const dialog = await srf.createUAC(`sip:agent@127.0.0.1:${agentPort}`, { localSdp: sdp(9200), proxy: `sips:127.0.0.1:${kamTls}` });
      dialog.destroy();
      const r = await agent.done;
      expect(r.stats.successful, `${describeRun(r)}\n${kam.output()}`).toBe(1);
      expect(kam.requests((e) => e.kind === 'initial' && e.method === 'INVITE' && e.proto === 'tls')).toBeGreaterThanOrEqual(1);
      expect(kam.requests((e) => e.kind === 'in-dialog' && e.method === 'BYE' && e.proto === 'tls')).toBeGreaterThanOrEqual(1);
    } finally {
      agent.kill();
    }
  });
});

describe('certificates refused with a real peer', () => {
  it('a Kamailio with a self-signed certificate: our requests to it get 503, its calls to us fail, and the server keeps serving', async () => {
    const rogue = await startKamailio(await pki.selfSigned('rogue', { cn: 'rogue.test', san: ['URI:sip:localhost', 'IP:127.0.0.1'] }));
    try {
      const before = h.server.status().refusedConnections;
      const res = await sendRequest(srf, `sips:kamailio@localhost:${rogue.tlsPort}`, 'OPTIONS');
      expect(res.status).toBe(503);
      expect(rogue.kam.requests((e) => e.kind === 'options')).toBe(0);
      const port = await freePort();
      const r = await runSipp({ scenario: 'uac-basic.xml', remote: `127.0.0.1:${rogue.kam.port}`, port, transport: 'udp', calls: 1, service: '2000', timeoutSec: 10 }).done;
      expect(r.stats.successful, describeRun(r)).toBe(0);
      expect(h.server.status().refusedConnections).toBeGreaterThanOrEqual(before + 2);
    } finally {
      await rogue.kam.stop();
    }
    expect((await sendRequest(srf, `sips:kamailio@localhost:${kamTls}`, 'OPTIONS')).status, 'the trusted Kamailio is still reached').toBe(200);
  });
});
