/**
 * SIP over TLS with a real softphone, baresip (libre's TLS): it calls the
 * server's TLS listener (presenting a client certificate), and
 * the server calls it on its TLS port, verifying its certificate; one with a
 * self-signed certificate is not called. The app is an unmodified
 * drachtio-srf app answering or placing the calls.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/sip-server/transport/types.js';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../support/harness.js';
import { Baresip } from '../support/interop/baresip.js';
import { sdp } from '../support/sip-peer.js';
import { TestPki, type CertFiles } from '../support/tls-certs.js';

let pki: TestPki;
let h: Harness;
let srf: Srf;
const phones: Baresip[] = [];
const admitted: Flow[] = [];
const answered: { protocol: string; contact: string }[] = [];

/** baresip reads certificate and key from one PEM file. */
function combined(c: CertFiles, name: string): string {
  const file = join(pki.dir, `${name}-with-key.pem`);
  writeFileSync(file, readFileSync(c.cert, 'utf8') + readFileSync(c.key, 'utf8'));
  return file;
}

async function phone(user: string, cert: CertFiles, answer: 'auto' | 'manual'): Promise<Baresip> {
  const b = await Baresip.start({ user, answer, lifetimeSec: 90, tls: { certificateWithKey: combined(cert, user), ca: pki.ca.cert } });
  phones.push(b);
  return b;
}

beforeAll(async () => {
  pki = await TestPki.create();
  const server = await pki.issue('server', { cn: 'switchboard.test', san: ['IP:127.0.0.1', 'URI:sip:127.0.0.1'] });
  h = await startServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, verifyClient: 'optional', verifyServer: true, minVersion: 'TLSv1.2' } },
    ],
    admission: (_req, flow) => {
      admitted.push(flow);
      return undefined;
    },
  });
  srf = await connectApp(h, (app) => {
    app.invite((req, res) => {
      void app.createUAS(req, res, { localSdp: sdp(9300) }).then(
        (d) => answered.push({ protocol: (req as unknown as { protocol: string }).protocol, contact: String((d as unknown as { local: { contact: string } }).local.contact) }),
        () => undefined,
      );
    });
  });
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  disconnectApp(srf);
  await h?.stop();
  pki?.cleanup();
});

describe('baresip and the server over TLS', () => {
  it('baresip calls the TLS listener twice over its connection; the app answers; baresip hangs up', async () => {
    const carol = await phone('carol', await pki.issue('carol', { cn: 'carol.test', san: ['IP:127.0.0.1'] }), 'manual');
    const port = h.listener('tls').port;
    for (const [target, contact] of [
      [`sip:1000@127.0.0.1:${port};transport=tls`, `<sip:127.0.0.1:${port};transport=tls>`],
      // baresip 1.0's dial command accepts only sip: URIs (it would make "sip:sips:…" of a sips: one).
      [`sip:1001@127.0.0.1:${port};transport=tls`, `<sip:127.0.0.1:${port};transport=tls>`],
    ] as const) {
      const from = carol.events.all.length;
      const before = answered.length;
      expect((await carol.command('dial', target)).ok).toBe(true);
      await carol.waitEvent('CALL_ESTABLISHED', 10_000, from).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${carol.output()}`);
      });
      await eventually(() => answered.length === before + 1, 10_000, 'the app answered');
      expect(answered[before]).toEqual({ protocol: 'tls', contact });
      await carol.command('hangup');
      await carol.waitEvent('CALL_CLOSED', 10_000, from);
    }
    const overTls = admitted.filter((f) => f.transport === 'tls');
    expect(overTls).toHaveLength(2);
    expect(overTls.every((f) => f.tlsPeer?.verified === true && f.tlsPeer.subjectCN === 'carol.test'), 'baresip’s client certificate verified').toBe(true);
    expect(new Set(overTls.map((f) => f.connectionId)).size, 'one connection for both calls').toBe(1);
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'no dialog left');
  });

  it('the app calls baresip on its TLS port; the server checks baresip’s certificate; the app hangs up', async () => {
    const dave = await phone('dave', await pki.issue('dave', { cn: 'dave.test', san: ['IP:127.0.0.1'] }), 'auto');
    const dialog = await srf.createUAC(dave.uri('tls'), { localSdp: sdp(9400) });
    await dave.waitEvent('CALL_ESTABLISHED', 10_000);
    dialog.destroy();
    await dave.waitEvent('CALL_CLOSED', 10_000);
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'no dialog left');
  });

  it('a baresip with a self-signed certificate is not called: the app gets 503 and baresip sees nothing', async () => {
    const eve = await phone('eve', await pki.selfSigned('eve', { cn: 'eve.test', san: ['IP:127.0.0.1'] }), 'auto');
    const err = await srf.createUAC(eve.uri('tls'), { localSdp: sdp(9500) }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(503);
    expect(eve.events.all.filter((e) => e.type === 'CALL_INCOMING')).toEqual([]);
  });
});
