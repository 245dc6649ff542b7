/**
 * IPv6 (RFC 5118): listeners on ::1, references in brackets in Via, Contact
 * and Request-URIs, and calls in both directions over UDP and TCP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

let h: Harness;
let srf: Srf;
const peers: SipPeer[] = [];

beforeEach(async () => {
  h = await startServer({
    listen: [
      { transport: 'udp', host: '::1', port: 0 },
      { transport: 'tcp', host: '::1', port: 0 },
    ],
  });
  srf = await connectApp(h, (s) => s.invite((req, res) => void s.createUAS(req, res, { localSdp: sdp(5000) }).catch(() => undefined)));
});
afterEach(async () => {
  disconnectApp(srf);
  for (const p of peers.splice(0)) await p.close();
  await h.stop();
});

describe('IPv6 (RFC 5118)', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`an inbound call over ${transport.toUpperCase()} on ::1 is answered with bracketed references`, async () => {
      const peer = await SipPeer.create(transport, '::1');
      peers.push(peer);
      const port = transport === 'udp' ? h.udp.port : h.tcp.port;
      await peer.send(request({ method: 'INVITE', uri: `sip:1000@[::1]:${port}`, peer, callId: uniq('v6'), body: sdp(4000) }), { port });
      const ok = await peer.waitResponse(200, 'INVITE');
      expect(ok.message.headers.get('contact')).toBe(`<sip:[::1]:${port}${transport === 'tcp' ? ';transport=tcp' : ''}>`);
      // over TCP the request came from an ephemeral port, which rport records (RFC 3581)
      const rport = transport === 'udp' ? String(peer.port) : '\\d+';
      expect(ok.message.headers.get('via')).toMatch(new RegExp(`^SIP/2\\.0/${transport.toUpperCase()} \\[::1\\]:${peer.port};branch=[^;]+;rport=${rport};received=::1$`));
    });
  }

  it('an outbound call from the app to an IPv6 callee over TCP', async () => {
    const callee = await SipPeer.create('tcp', '::1');
    peers.push(callee);
    const pending = srf.createUAC(`sip:agent@[::1]:${callee.port};transport=tcp`, { localSdp: sdp(7000) });
    const inv = await callee.nextRequest('INVITE');
    expect(inv.message.headers.get('via')).toMatch(new RegExp(`^SIP/2\\.0/TCP \\[::1\\]:${h.tcp.port};branch=`));
    await callee.send(respond(inv, 486, 'Busy Here', { toTag: 'b6' }), { port: h.tcp.port });
    await expect(pending).rejects.toMatchObject({ status: 486 });
    await callee.waitRequest('ACK');
  });
});
