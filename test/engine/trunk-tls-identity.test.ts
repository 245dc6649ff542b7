/**
 * A trunk known by its TLS client certificate (RFC 5922 §7): the embedded SIP
 * server verifies the carrier's certificate against the listener's CA and
 * tells the engine its identities; the trunk whose `tlsIdentity` the
 * certificate names is the call's, wherever it connects from, and only then
 * are its reserved-data headers believed. Another certificate from the same
 * CA, and a header forged over UDP claiming the carrier's identity, get an
 * unknown, untrusted source.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/engine/call-record.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { TestPki } from '../support/tls-certs.js';

let pki: TestPki;
let cc: ContactCenter;
let agent: AgentPhone;
const phones: CallerPhone[] = [];

beforeAll(async () => {
  pki = await TestPki.create();
  const server = await pki.issue('server', { cn: 'switchboard.test', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  agent = await AgentPhone.create(1300);
  cc = await startContactCenter(
    {
      sipServer: {
        listen: [
          { transport: 'udp', host: '127.0.0.1', port: 0 },
          { transport: 'tcp', host: '127.0.0.1', port: 0 },
          { transport: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, verifyClient: 'optional' } },
        ],
      },
      trunks: {
        unknownSources: 'untrusted',
        inbound: [{ id: 'carrier', name: 'Carrier over TLS', trusted: true, headerMapping: 'flags', sources: [{ tlsIdentity: 'Carrier.Example' }] }],
      },
      reservedData: { headerMappings: [{ id: 'flags', headers: [{ name: 'X-Reserved-Data', format: 'parameters' }] }] },
      queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
    },
    { media: false },
  );
});

afterAll(async () => {
  await cc?.stop();
  agent?.close();
  for (const p of phones) p.close();
  pki?.cleanup();
});

/** A caller over TLS presenting a certificate of the test CA with `sipUri` as its identity. */
async function tlsCaller(name: string, sipUri: string): Promise<CallerPhone> {
  const c = await pki.issue(name, { cn: name, san: [`URI:${sipUri}`] });
  const phone = await CallerPhone.create(700, 'tls', '127.0.0.1', { cert: readFileSync(c.cert), key: readFileSync(c.key), ca: readFileSync(pki.ca.cert), servername: 'localhost' });
  phones.push(phone);
  return phone;
}

const tlsListener = (): { host: string; port: number } => ({ host: '127.0.0.1', port: cc.sb.sipListeners.find((l) => l.transport === 'tls')!.port });

/** Places a call carrying reserved data (and `extra` headers), answered by the agent, then hangs up: its record. */
async function call(phone: CallerPhone, target: { host: string; port: number }, extra: readonly string[] = []): Promise<CallRecord> {
  const placed = phone.dial(target, '1000', { extra: ['X-Reserved-Data: verified_customer=true;repeat_customer=true', ...extra] });
  await placed.waitStatus(200, 20_000);
  placed.hangUp();
  return cc.recordOf(placed.callId);
}

describe('a trunk identified by its TLS client certificate', () => {
  it('the carrier\'s certificate: its trunk, trusted, its reserved data read (the identity matched case-insensitively)', async () => {
    const record = await call(await tlsCaller('carrier', 'sip:carrier.example'), tlsListener());
    expect(record.trunk).toEqual({ id: 'carrier', name: 'Carrier over TLS', trusted: true });
    expect(record.reservedData).toMatchObject({ reserved_verified_customer: true, reserved_repeat_customer: true });
  });

  it('another certificate from the same CA, and a suffix of the identity: an unknown source, nothing read', async () => {
    for (const [name, uri] of [['other', 'sip:other.example'], ['evil', 'sip:evil.carrier.example']] as const) {
      const record = await call(await tlsCaller(name, uri), tlsListener());
      expect(record.trunk, name).toEqual({ id: null, name: null, trusted: false });
      expect(record.reservedData, name).toEqual({});
    }
  });

  it('the identity header forged, plain or percent-escaped, over UDP and over TLS with another certificate: an unknown source', async () => {
    const forged = ['X-Switchboard-TLS-Identity: carrier.example', 'X%2dSwitchboard-TLS-Identity: carrier.example'];
    const phone = await CallerPhone.create(700, 'udp');
    phones.push(phone);
    for (const [p, target] of [[phone, cc.udp], [await tlsCaller('forger', 'sip:forger.example'), tlsListener()]] as const) {
      const record = await call(p, target, forged);
      expect(record.trunk).toEqual({ id: null, name: null, trusted: false });
      expect(record.reservedData).toEqual({});
    }
    await cc.settled();
  });
});
