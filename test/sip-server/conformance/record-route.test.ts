/**
 * RFC 3261 §12.1.1: a UAS response that establishes a dialog (101–199 with a
 * To tag, 2xx) copies every Record-Route of the request, in order, with all
 * parameters; §12.2.1.1: the UAS then sends its in-dialog requests to the
 * first entry of that route set. A proxy in front of the server (Kamailio,
 * a carrier SBC) depends on both: without the copied Record-Route the caller
 * sends its ACK and BYE around the proxy.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

let h: Harness;
let proxy: SipPeer;
let srf: Srf | undefined;

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  proxy = await SipPeer.create('udp');
});
afterEach(async () => {
  if (srf !== undefined) disconnectApp(srf);
  srf = undefined;
  await proxy.close();
  await h.stop();
});

/** Two Record-Route header fields, the first with two values, as a chain of proxies writes them. */
function recordRoutes(): { fields: string[]; values: string[] } {
  const values = [`<sip:127.0.0.1:${proxy.port};lr;ftag=abc>`, '<sip:edge.example.invalid;lr;r2=on>', '<sip:[2001:db8::1]:5080;transport=tcp;lr>'];
  return { fields: [`Record-Route: ${values[0]}, ${values[1]}`, `Record-Route: ${values[2]}`], values };
}

describe('Record-Route in dialog-establishing responses (RFC 3261 §12.1.1)', () => {
  it('the 180 and the 200 to an INVITE carry the request’s Record-Route values in order; the app’s BYE follows them', async () => {
    srf = await connectApp(h, (s) =>
      s.invite((req, res) => {
        res.send(180);
        void s.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => setTimeout(() => d.destroy(), 50));
      }),
    );
    const rr = recordRoutes();
    const callId = uniq('rr');
    await proxy.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: proxy, callId, extra: rr.fields, body: sdp(4000) }), { port: h.udp.port });
    const ringing = await proxy.waitResponse(180, 'INVITE');
    expect(ringing.message.headers.entries('record-route')).toEqual(rr.values);
    const ok = await proxy.waitResponse(200, 'INVITE');
    expect(ok.message.headers.entries('record-route')).toEqual(rr.values);
    await proxy.send(
      request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: proxy, callId, fromTag: ok.info.fromTag!, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }),
      { port: h.udp.port },
    );
    // §12.2.1.1: the first route is loose (lr), so the BYE goes to it with the whole set as Route.
    const bye = await proxy.waitRequest('BYE');
    expect(bye.message.headers.entries('route')).toEqual(rr.values);
    expect(bye.message.uri).toBe(`sip:caller@127.0.0.1:${proxy.port}`);
    await proxy.send(respond(bye, 200, 'OK'), { port: h.udp.port });
  });

  it('a strict router (Record-Route without lr, RFC 2543): the BYE goes to it with its URI as Request-URI and the remote target as the last Route (§12.2.1.1)', async () => {
    srf = await connectApp(h, (s) =>
      s.invite((req, res) => {
        void s.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => setTimeout(() => d.destroy(), 50));
      }),
    );
    const strict = `<sip:127.0.0.1:${proxy.port};transport=udp;maddr=127.0.0.1>`;
    const loose = '<sip:edge.example.invalid;lr>';
    const callId = uniq('strict');
    await proxy.send(
      request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: proxy, callId, extra: [`Record-Route: ${strict}, ${loose}`], body: sdp(4000) }),
      { port: h.udp.port },
    );
    const ok = await proxy.waitResponse(200, 'INVITE');
    await proxy.send(
      request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: proxy, callId, fromTag: ok.info.fromTag!, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }),
      { port: h.udp.port },
    );
    const bye = await proxy.waitRequest('BYE');
    expect(bye.message.uri).toBe(`sip:127.0.0.1:${proxy.port};transport=udp;maddr=127.0.0.1`);
    expect(bye.message.headers.entries('route')).toEqual([loose, `<sip:caller@127.0.0.1:${proxy.port}>`]);
    await proxy.send(respond(bye, 200, 'OK'), { port: h.udp.port });
  });

  it('a final error response establishes no dialog and carries no Record-Route', async () => {
    srf = await connectApp(h, (s) => s.invite((_req, res) => res.send(486)));
    const rr = recordRoutes();
    await proxy.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: proxy, extra: rr.fields, body: sdp(4000) }), { port: h.udp.port });
    const busy = await proxy.waitResponse(486, 'INVITE');
    expect(busy.message.headers.entries('record-route')).toEqual([]);
  });
});

describe('the route set of a dialog the server opens (RFC 3261 §12.1.2, §13.2.2.4)', () => {
  it('a 2xx without Record-Route, after another fork’s 180 with one, makes a dialog with no route: its ACK and BYE go to the answering phone, not through the other fork’s proxy', async () => {
    const elsewhere = await SipPeer.create('udp');
    try {
      srf = await connectApp(h, () => undefined);
      const call = srf.createUAC(`sip:agent@127.0.0.1:${proxy.port}`, { localSdp: sdp(6000) });
      const inv = await proxy.nextRequest('INVITE');
      // Fork X rings through a proxy of its own (an SBC in front of a remote phone); fork Y answers directly.
      await proxy.send(respond(inv, 180, 'Ringing', { toTag: 'branchX', contact: '<sip:phone-x@192.0.2.7>', extra: [`Record-Route: <sip:127.0.0.1:${elsewhere.port};lr>`] }), { port: h.udp.port });
      await proxy.send(respond(inv, 200, 'OK', { toTag: 'branchY', contact: `<sip:phone-y@127.0.0.1:${proxy.port}>`, body: sdp(7000) }), { port: h.udp.port });
      const dialog = await call;
      const ack = await proxy.waitRequest('ACK');
      expect(ack.info.toTag).toBe('branchY');
      expect(ack.message.headers.entries('route')).toEqual([]);
      expect(ack.message.kind === 'request' && ack.message.uri).toBe(`sip:phone-y@127.0.0.1:${proxy.port}`);
      proxy.onMessage = (r) => {
        if (r.message.kind === 'request' && r.message.method === 'BYE') void proxy.send(respond(r, 200, 'OK'), { port: h.udp.port });
      };
      dialog.destroy();
      const bye = await proxy.waitRequest('BYE');
      expect(bye.message.headers.entries('route')).toEqual([]);
      expect(elsewhere.received).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('the ACK of a 2xx to an INVITE sent with credentials carries the same credentials (§13.2.2.4: a proxy that authenticates it relays it)', async () => {
    srf = await connectApp(h, () => undefined);
    const credentials = 'Digest username="u", realm="proxy.carrier.example", nonce="n1", uri="sip:gw@127.0.0.1", response="0123456789abcdef0123456789abcdef"';
    const call = srf.createUAC(`sip:gw@127.0.0.1:${proxy.port}`, { localSdp: sdp(6000), headers: { 'Proxy-Authorization': credentials } });
    const inv = await proxy.nextRequest('INVITE');
    expect(inv.message.headers.get('proxy-authorization')).toBe(credentials);
    await proxy.send(respond(inv, 200, 'OK', { toTag: 'gw', contact: `<sip:gw@127.0.0.1:${proxy.port}>`, body: sdp(7000) }), { port: h.udp.port });
    const dialog = await call;
    const ack = await proxy.waitRequest('ACK');
    expect(ack.message.headers.get('proxy-authorization')).toBe(credentials);
    proxy.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void proxy.send(respond(r, 200, 'OK'), { port: h.udp.port });
    };
    dialog.destroy();
    await proxy.waitRequest('BYE');
  });

  // Probe AO-4: the credentials of the INVITE each ACK acknowledges.
  const credentialsOfInvite = 'Digest username="u", realm="proxy.carrier.example", nonce="n1", uri="sip:gw@127.0.0.1", response="0123456789abcdef0123456789abcdef"';

  it('the ACK of a second fork’s 2xx (ACKed and BYEd by the server) carries the INVITE’s credentials too', async () => {
    srf = await connectApp(h, () => undefined);
    const call = srf.createUAC(`sip:gw@127.0.0.1:${proxy.port}`, { localSdp: sdp(6000), headers: { 'Proxy-Authorization': credentialsOfInvite } });
    const inv = await proxy.nextRequest('INVITE');
    proxy.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void proxy.send(respond(r, 200, 'OK'), { port: h.udp.port });
    };
    await proxy.send(respond(inv, 200, 'OK', { toTag: 'forkA', contact: `<sip:a@127.0.0.1:${proxy.port}>`, body: sdp(7000) }), { port: h.udp.port });
    const dialog = await call;
    const ackA = await proxy.waitRequest('ACK');
    expect(ackA.message.headers.get('proxy-authorization')).toBe(credentialsOfInvite);
    // The forking proxy relays a second phone's 200 (RFC 3261 §13.2.2.4: ACK it, then BYE it).
    await proxy.send(respond(inv, 200, 'OK', { toTag: 'forkB', contact: `<sip:b@127.0.0.1:${proxy.port}>`, body: sdp(7010) }), { port: h.udp.port });
    const ackB = await proxy.wait((r) => r.message.kind === 'request' && r.message.method === 'ACK' && r.info.toTag === 'forkB', 5000, 'the ACK of fork B');
    await proxy.wait((r) => r.message.kind === 'request' && r.message.method === 'BYE' && r.info.toTag === 'forkB', 5000, 'the BYE of fork B');
    expect(ackB.message.headers.get('proxy-authorization')).toBe(credentialsOfInvite);
    dialog.destroy();
  });

  it('the ACK of a re-INVITE sent without credentials carries none (not the first INVITE’s)', async () => {
    srf = await connectApp(h, () => undefined);
    const call = srf.createUAC(`sip:gw@127.0.0.1:${proxy.port}`, { localSdp: sdp(6000), headers: { 'Proxy-Authorization': credentialsOfInvite } });
    const inv = await proxy.nextRequest('INVITE');
    await proxy.send(respond(inv, 200, 'OK', { toTag: 'gw', contact: `<sip:gw@127.0.0.1:${proxy.port}>`, body: sdp(7000) }), { port: h.udp.port });
    const dialog = await call;
    await proxy.waitRequest('ACK');
    const modifying = dialog.modify(sdp(6002));
    const reinvite = await proxy.nextRequest('INVITE');
    expect(reinvite.message.headers.get('proxy-authorization')).toBeUndefined();
    await proxy.send(respond(reinvite, 200, 'OK', { toTag: 'gw', contact: `<sip:gw@127.0.0.1:${proxy.port}>`, body: sdp(7002) }), { port: h.udp.port });
    await modifying;
    const ack2 = await proxy.wait((r) => r.message.kind === 'request' && r.message.method === 'ACK' && r.info.cseq === reinvite.info.cseq, 5000, 'the ACK of the re-INVITE');
    expect(ack2.message.headers.get('proxy-authorization')).toBeUndefined();
    proxy.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void proxy.send(respond(r, 200, 'OK'), { port: h.udp.port });
    };
    dialog.destroy();
  });
});
