/**
 * SIP over TLS (RFC 3261 §26) with an unmodified drachtio-srf app: requests
 * in over a TLS listener (client certificates verified against a CA, the
 * verified identity given to the admission hook), requests out to `sips:` and
 * `transport=tls` URIs with the server's certificate checked (RFC 5922), and
 * what is refused cleanly: unknown or missing client certificates, plain TCP
 * on the TLS port, stalled handshakes, servers with bad certificates.
 */
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/sip-server/transport/types.js';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type PeerTls } from '../../support/sip-peer.js';
import { sendRequest } from '../../support/srf-request.js';
import { TestPki, type CertFiles } from '../../support/tls-certs.js';

let pki: TestPki;
let h: Harness;
let srf: Srf;
const seen = new Map<string, { protocol: string; receivedOn: string; source: string; tlsIdentity?: string }>();
const admitted: Flow[] = [];
const peers: SipPeer[] = [];
const cleanups: (() => void)[] = [];
let good: PeerTls;
let files: Record<'server' | 'carrier' | 'selfSigned' | 'wrongName' | 'expired' | 'otherCa' | 'agent' | 'dnsBesideUri', CertFiles>;

const tlsOf = (c: CertFiles, servername?: string): PeerTls => ({
  cert: readFileSync(c.cert),
  key: readFileSync(c.key),
  ca: readFileSync(pki.ca.cert),
  ...(servername !== undefined ? { servername } : {}),
});

async function peer(tls: PeerTls): Promise<SipPeer> {
  const p = await SipPeer.create('tls', '127.0.0.1', tls);
  peers.push(p);
  return p;
}

interface SrfReq {
  readonly protocol: string;
  readonly receivedOn: string;
  readonly source_address: string;
  get(h: string): string;
}

beforeAll(async () => {
  pki = await TestPki.create();
  const other = await TestPki.create('Some Other CA');
  files = {
    server: await pki.issue('server', { cn: 'switchboard.test', san: ['DNS:localhost', 'IP:127.0.0.1', 'URI:sip:localhost'] }),
    carrier: await pki.issue('carrier', { cn: 'carrier.example', san: ['URI:sip:carrier.example', 'IP:127.0.0.1', 'DNS:localhost'] }),
    selfSigned: await pki.selfSigned('self', { cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] }),
    wrongName: await pki.issue('wrong', { cn: 'wrong.example', san: ['DNS:wrong.example'] }),
    expired: await pki.issue('expired', { cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], notBefore: '20200101000000Z', notAfter: '20200201000000Z' }),
    otherCa: await other.issue('stranger', { cn: 'stranger.example', san: ['IP:127.0.0.1'] }),
    agent: await pki.issue('agent', { cn: 'agent', san: ['URI:sip:localhost', 'IP:127.0.0.1'] }),
    // RFC 5922 §7.1: with a sip: URI present, the DNS names are no identity.
    dnsBesideUri: await pki.issue('dnsuri', { cn: 'localhost', san: ['URI:sip:elsewhere.example', 'DNS:localhost'] }),
  };
  good = tlsOf(files.carrier);
  h = await startServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: files.server.cert, keyFile: files.server.key, caFile: pki.ca.cert, verifyClient: 'optional', verifyServer: true, minVersion: 'TLSv1.2' } },
    ],
    connections: { handshakeTimeoutMs: 500 },
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 5000 },
    // A trunk-like rule: `trunk-only` takes requests only from the verified carrier.example.
    admission: (req, flow) => {
      admitted.push(flow);
      if (!req.uri.startsWith('sip:trunk-only@') && !req.uri.startsWith('sips:trunk-only@')) return undefined;
      const p = flow.tlsPeer;
      return p?.verified === true && p.identities.includes('carrier.example') ? undefined : { status: 403, reason: 'Forbidden (not the carrier)' };
    },
  });
  srf = await connectApp(h, (app) => {
    const onOptions = (req: SrfReq, res: { send(s: number): void }): void => {
      const tlsIdentity = req.get('X-Switchboard-TLS-Identity') as string | undefined;
      seen.set(req.get('Call-ID'), { protocol: req.protocol, receivedOn: req.receivedOn, source: req.source_address, ...(tlsIdentity !== undefined ? { tlsIdentity } : {}) });
      res.send(200);
    };
    app.use('options', onOptions as never);
    app.invite((req, res) => void app.createUAS(req, res, { localSdp: sdp(9000) }).catch(() => undefined));
  });
  cleanups.push(() => other.cleanup());
});

afterAll(async () => {
  disconnectApp(srf);
  for (const p of peers) await p.close();
  await h?.stop();
  pki?.cleanup();
  for (const c of cleanups) c();
});

const tlsPort = (): number => h.listener('tls').port;

describe('requests in over TLS (RFC 3261 §26.2)', () => {
  it('an OPTIONS from a client with a CA-signed certificate is answered over the same connection; the app sees tls and receivedOn', async () => {
    const client = await peer(good);
    const callId = uniq('tls-opt');
    await client.send(request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()};transport=tls`, peer: client, callId }), { port: tlsPort() });
    const ok = await client.waitResponse(200, 'OPTIONS');
    expect(ok.message.headers.get('via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bK\w+;rport=\d+/);
    expect(seen.get(callId)).toEqual({ protocol: 'tls', receivedOn: `127.0.0.1:${tlsPort()}`, source: '127.0.0.1', tlsIdentity: 'carrier.example, 127.0.0.1' });
    await client.send(request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: client }), { port: tlsPort() });
    await client.waitResponse(200, 'OPTIONS');
    expect(new Set(client.received.map((r) => r.from.port)).size, 'one connection for both').toBe(1);
  });

  it('a dialog from a SIPS Request-URI or (without Record-Route) a SIPS Contact gets a SIPS Contact (RFC 3261 §12.1.1), else sip: with transport=tls', async () => {
    const client = await peer(good);
    for (const [uri, theirs, ours] of [
      [`sips:agent@127.0.0.1:${tlsPort()}`, `<sips:caller@127.0.0.1:${client.port}>`, `<sips:127.0.0.1:${tlsPort()}>`],
      [`sip:agent@127.0.0.1:${tlsPort()};transport=tls`, `<sips:caller@127.0.0.1:${client.port}>`, `<sips:127.0.0.1:${tlsPort()}>`],
      [`sip:agent@127.0.0.1:${tlsPort()};transport=tls`, `<sip:caller@127.0.0.1:${client.port};transport=tls>`, `<sip:127.0.0.1:${tlsPort()};transport=tls>`],
    ] as const) {
      const callId = uniq('tls-inv');
      await client.send(request({ method: 'INVITE', uri, peer: client, callId, body: sdp(7000), contact: theirs }), { port: tlsPort() });
      const ok = await client.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.callId === callId, 5000, '200 INVITE');
      expect(ok.message.headers.get('contact'), `${uri} from ${theirs}`).toBe(ours);
      const to = ok.message.headers.get('to') ?? '';
      await client.send(request({ method: 'ACK', uri: `sips:127.0.0.1:${tlsPort()}`, peer: client, callId, to: to.replace(/;tag=.*$/, ''), toTag: /;tag=([^;]+)/.exec(to)![1]!, fromTag: ok.info.fromTag!, cseq: 1 }), { port: tlsPort() });
      await client.send(request({ method: 'BYE', uri: `sips:127.0.0.1:${tlsPort()}`, peer: client, callId, to: to.replace(/;tag=.*$/, ''), toTag: /;tag=([^;]+)/.exec(to)![1]!, fromTag: ok.info.fromTag!, cseq: 2 }), { port: tlsPort() });
      await client.wait((r) => r.message.kind === 'response' && r.info.callId === callId && r.info.cseqMethod === 'BYE', 5000, '200 BYE');
    }
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'dialogs gone');
  });

  it('the verified client identity reaches the admission hook: carrier.example is let in, a client without certificate is not', async () => {
    const carrier = await peer(good);
    await carrier.send(request({ method: 'OPTIONS', uri: `sip:trunk-only@127.0.0.1:${tlsPort()}`, peer: carrier }), { port: tlsPort() });
    await carrier.waitResponse(200, 'OPTIONS');
    const flow = admitted.find((f) => f.tlsPeer?.subjectCN === 'carrier.example');
    expect(flow?.tlsPeer).toMatchObject({ verified: true, identities: ['carrier.example'] });
    expect(flow?.tlsPeer?.fingerprint256).toBe(await TestPki.fingerprint(files.carrier.cert));

    const anonymous = await tlsExchange(undefined, request({ method: 'OPTIONS', uri: `sip:trunk-only@127.0.0.1:${tlsPort()}`, peer: carrier }));
    expect(anonymous.statuses).toEqual([403]);
    expect(anonymous.reasons[0]).toBe('Forbidden (not the carrier)');
  });
});

describe('the verified identity told to the app', () => {
  /** What the app saw of an OPTIONS carrying a forged identity header. */
  async function forged(send: (text: string) => Promise<unknown>, transport: 'tls' | 'tcp'): Promise<string | undefined> {
    const callId = uniq('forged');
    const text = request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: from(transport), callId, extra: ['X-Switchboard-TLS-Identity: bank.example', 'x-switchboard-tls-identity: 10.0.0.1', 'X%2dSwitchboard-TLS-Identity: bank.example', 'x-switchboard-tls-identit%79: 10.0.0.2', '%u0058-Switchboard-TLS-Identity: bank.example'] });
    await send(text);
    await eventually(() => seen.has(callId), 10_000, 'the OPTIONS reached the app');
    return seen.get(callId)!.tlsIdentity;
  }

  it('X-Switchboard-TLS-Identity: only the server writes it, from a verified certificate; a sender\'s own is removed, in any case and percent-escaped (drachtio-srf unescapes header names)', async () => {
    // Verified: the certificate's SIP identities and addresses, and nothing the sender wrote.
    expect(await forged((t) => tlsExchange(files.carrier, t), 'tls')).toBe('carrier.example, 127.0.0.1');
    // TLS without a client certificate (verifyClient: optional lets it in): none.
    expect(await forged((t) => tlsExchange(undefined, t), 'tls')).toBeUndefined();
    // UDP: none.
    const udp = await SipPeer.create('udp', '127.0.0.1');
    peers.push(udp);
    expect(await forged((t) => udp.send(t.replace('SIP/2.0/TLS', 'SIP/2.0/UDP'), { port: h.listener('udp').port }), 'tls')).toBeUndefined();
  });
});

describe('what the TLS listener refuses, while it keeps serving', () => {
  it('a client certificate from an unknown CA, or self-signed: no SIP gets through, the connection is closed', async () => {
    for (const c of [files.otherCa, files.selfSigned]) {
      const before = h.server.status().refusedConnections;
      const r = await tlsExchange(c, request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: from('tls') }));
      expect(r.statuses, c.cert).toEqual([]);
      expect(r.closed, c.cert).toBe(true);
      await eventually(() => h.server.status().refusedConnections === before + 1, 10_000, 'refusal counted');
    }
    await stillServes();
  });

  it('the TCP framing defences hold on TLS: a Content-Length over the limit gets 513 and the connection is closed', async () => {
    const text = request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: from('tls') }).replace('Content-Length: 0', 'Content-Length: 900000');
    const r = await tlsExchange(files.carrier, text, tlsPort(), true);
    expect(r).toMatchObject({ statuses: [513], closed: true });
    await stillServes();
  });

  it('plain TCP on the TLS port (a SIP request in clear) is closed without an answer', async () => {
    const before = h.server.status().refusedConnections;
    const sock = createConnection({ host: '127.0.0.1', port: tlsPort() });
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.write(request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: from('tcp') }));
    await closed;
    expect(Buffer.concat(got).toString('latin1')).not.toMatch(/SIP\/2\.0/);
    await eventually(() => h.server.status().refusedConnections === before + 1, 10_000, 'refusal counted');
    await stillServes();
  });

  it('a client that connects and never starts the handshake is dropped at the handshake timeout', async () => {
    const sock = createConnection({ host: '127.0.0.1', port: tlsPort() });
    sock.on('error', () => undefined);
    const closed = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 10_000);
      sock.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    expect(closed).toBe(true);
    await stillServes();
  });
});

describe('stopping a TLS listener', () => {
  it.each(['tls', 'wss'] as const)('%s: ends connections still in their handshake as well as established ones (stop does not wait out the handshake timeout)', async (transport) => {
    const own = await startServer({
      listen: [{ transport, host: '127.0.0.1', port: 0, tls: { certFile: files.server.cert, keyFile: files.server.key, verifyClient: 'off', verifyServer: true, minVersion: 'TLSv1.2' } }],
      // Far beyond the test's own timeout: a stop that waited for the stalled handshake would fail the test.
      connections: { handshakeTimeoutMs: 3_600_000 },
    });
    const port = own.listener(transport).port;
    const closed = (s: { once(e: 'close', f: () => void): unknown }): Promise<void> => new Promise((resolve) => s.once('close', () => resolve()));
    const stalled = createConnection({ host: '127.0.0.1', port });
    stalled.on('error', () => undefined);
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    const established = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    established.on('error', () => undefined);
    await new Promise<void>((resolve) => established.once('secureConnect', () => resolve()));
    // No wait for the server to register it: with TLS 1.3 the client is done a flight before the server is.
    const ends = Promise.all([closed(stalled), closed(established)]);
    await own.stop();
    await ends;
    expect([stalled.destroyed, established.destroyed]).toEqual([true, true]);
  }, 30_000);
});

describe('requests out over TLS (RFC 3261 §26.2.1, RFC 5922 §7.2)', () => {
  /** A TLS peer that answers every request 200 and every INVITE with a SIPS Contact. */
  async function answering(c: CertFiles): Promise<SipPeer> {
    const p = await peer({ ...tlsOf(c), requestCert: true });
    p.onMessage = (r) => {
      if (r.message.kind !== 'request' || r.message.method === 'ACK') return;
      const extra = r.message.method === 'INVITE' ? { contact: `<sips:agent@127.0.0.1:${p.port}>`, body: sdp(7100), toTag: uniq('t') } : {};
      void p.send(respond(r, 200, 'OK', extra), { port: r.from.port });
    };
    return p;
  }

  it('OPTIONS to a sips: URI goes over TLS to a server whose certificate names the URI host; the connection is reused', async () => {
    const agent = await answering(files.agent);
    const first = await sendRequest(srf, `sips:agent@localhost:${agent.port}`, 'OPTIONS');
    expect(first.status).toBe(200);
    expect(first.protocol).toBe('tls');
    const got = await agent.waitRequest('OPTIONS');
    expect(got.message.headers.get('via')).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort()};branch=z9hG4bK`));
    expect(agent.clientCertificates, 'our certificate was presented as client certificate').toEqual(['switchboard.test']);
    expect((await sendRequest(srf, `sips:agent@localhost:${agent.port}`, 'OPTIONS')).status).toBe(200);
    expect(agent.accepted, 'one connection for both').toBe(1);
  });

  it('a sip: URI with transport=tls and an IP host is checked against the certificate’s IP address', async () => {
    const agent = await answering(files.agent);
    expect((await sendRequest(srf, `sip:agent@127.0.0.1:${agent.port};transport=tls`, 'OPTIONS')).status).toBe(200);
  });

  it('a call to a sips: agent: SIPS Contact, ACK and BYE over the same connection', async () => {
    const agent = await answering(files.agent);
    const dialog = await srf.createUAC(`sips:agent@localhost:${agent.port}`, { localSdp: sdp(7000) });
    const invite = await agent.waitRequest('INVITE');
    expect(invite.message.headers.get('contact')).toBe(`<sips:127.0.0.1:${tlsPort()}>`);
    await agent.waitRequest('ACK');
    dialog.destroy();
    await agent.waitRequest('BYE');
    expect(agent.accepted).toBe(1);
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'dialog gone');
  });

  it('a callee answering on UDP with a SIPS Contact gets the ACK and BYE over TLS, with a TLS Via', async () => {
    const secure = await answering(files.agent);
    const udp = await SipPeer.create('udp');
    peers.push(udp);
    udp.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'INVITE') {
        void udp.send(respond(r, 200, 'OK', { contact: `<sips:agent@127.0.0.1:${secure.port}>`, body: sdp(7200), toTag: uniq('t') }), { port: r.from.port });
      }
    };
    const dialog = await srf.createUAC(`sip:agent@127.0.0.1:${udp.port}`, { localSdp: sdp(7000) });
    const ack = await secure.waitRequest('ACK');
    expect(ack.message.headers.get('via')).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort()};`));
    dialog.destroy();
    const bye = await secure.waitRequest('BYE');
    expect(bye.message.headers.get('via')).toMatch(/^SIP\/2\.0\/TLS /);
    expect(bye.message.headers.get('contact')).toBeUndefined();
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'dialog gone');
  });

  for (const [what, cert] of [
    ['self-signed', 'selfSigned'],
    ['for another name', 'wrongName'],
    ['expired', 'expired'],
    ['from another CA', 'otherCa'],
    ['naming the host only as a DNS name beside a sip: URI', 'dnsBesideUri'],
  ] as const) {
    it(`a server certificate ${what} is refused: the app gets 503 and nothing is sent`, async () => {
      const bad = await answering(files[cert]);
      const before = h.server.status().refusedConnections;
      const res = await sendRequest(srf, `sips:agent@localhost:${bad.port}`, 'OPTIONS');
      expect(res.status).toBe(503);
      expect(bad.received).toEqual([]);
      expect(h.server.status().refusedConnections).toBe(before + 1);
      const ok = await answering(files.agent);
      expect((await sendRequest(srf, `sips:agent@localhost:${ok.port}`, 'OPTIONS')).status, 'still sends to good servers').toBe(200);
    });
  }
});

describe('connection reuse asked for with alias (RFC 5923)', () => {
  /** A TLS peer (with its own TLS port) that registers its Via, with or without alias, then is sent an OPTIONS by the app. */
  async function viaAlias(clientCert: CertFiles, alias: boolean): Promise<SipPeer> {
    const client = tlsOf(clientCert);
    const p = await peer({ ...tlsOf(files.agent), client: { cert: client.cert, key: client.key } });
    p.onMessage = (r) => {
      if (r.message.kind === 'request') void p.send(respond(r, 200, 'OK'), { port: r.from.port });
    };
    const text = request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: p });
    await p.send(alias ? text.replace(';rport', ';rport;alias') : text, { port: tlsPort() });
    await p.waitResponse(200, 'OPTIONS');
    expect((await sendRequest(srf, `sips:peer@127.0.0.1:${p.port}`, 'OPTIONS')).status).toBe(200);
    await p.waitRequest('OPTIONS');
    return p;
  }

  it('a verified client whose certificate names its Via host is reached over the connection it opened', async () => {
    expect((await viaAlias(files.carrier, true)).accepted).toBe(0);
  });

  it('without alias, or with a certificate that does not name the Via host, the server opens its own connection', async () => {
    expect((await viaAlias(files.carrier, false)).accepted).toBe(1);
    expect((await viaAlias(files.wrongName, true)).accepted).toBe(1);
  });
});

describe('verifyClient: required', () => {
  it('a client without a certificate is refused at the handshake; one with a CA-signed certificate is served', async () => {
    const strict = await startServer({
      listen: [{ transport: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: files.server.cert, keyFile: files.server.key, caFile: pki.ca.cert, verifyClient: 'required', verifyServer: true, minVersion: 'TLSv1.3' } }],
    });
    try {
      const port = strict.listener('tls').port;
      const text = request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${port}`, peer: from('tls') });
      const without = await tlsExchange(undefined, text, port);
      expect(without).toMatchObject({ statuses: [], closed: true });
      expect(strict.server.status().refusedConnections).toBe(1);
      // No app is connected: 503 proves the request got through.
      expect((await tlsExchange(files.carrier, text, port)).statuses).toEqual([503]);
    } finally {
      await strict.stop();
    }
  });
});

/** A bare TLS client (optionally with a certificate): sends `text`, collects the statuses of responses until closed or quiet. */
async function tlsExchange(cert: CertFiles | undefined, text: string, port = tlsPort(), untilClosed = false): Promise<{ statuses: number[]; reasons: string[]; closed: boolean }> {
  const sock = tlsConnect({
    host: '127.0.0.1',
    port,
    ca: readFileSync(pki.ca.cert),
    servername: 'localhost',
    ...(cert !== undefined ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
  });
  const out = { statuses: [] as number[], reasons: [] as string[], closed: false };
  let data = '';
  sock.on('data', (d: Buffer) => {
    data += d.toString('latin1');
    for (const m of data.matchAll(/^SIP\/2\.0 (\d{3}) ([^\r\n]*)/gm)) {
      if (Number(m[1]) >= 200 && !out.statuses.includes(Number(m[1]))) {
        out.statuses.push(Number(m[1]));
        out.reasons.push(m[2]!);
      }
    }
  });
  sock.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 5000);
    const finish = (): void => {
      clearTimeout(t);
      resolve();
    };
    sock.once('close', () => {
      out.closed = true;
      finish();
    });
    sock.once('secureConnect', () => sock.write(text.replace(/\r?\n/g, '\r\n')));
    const poll = setInterval(() => {
      if (out.statuses.length > 0 && !untilClosed) {
        clearInterval(poll);
        finish();
      }
    }, 20);
    sock.once('close', () => clearInterval(poll));
  });
  sock.destroy();
  return out;
}

/** Where a request built for a bare client claims to come from (its Via and Contact). */
function from(transport: 'tcp' | 'tls'): SipPeer {
  return { uriHost: '127.0.0.1', port: 5999, transport } as unknown as SipPeer;
}

/** A good client is still answered. */
async function stillServes(): Promise<void> {
  const r = await tlsExchange(files.carrier, request({ method: 'OPTIONS', uri: `sip:desk@127.0.0.1:${tlsPort()}`, peer: from('tls') }));
  expect(r.statuses).toEqual([200]);
}
