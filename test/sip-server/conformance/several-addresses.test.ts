/**
 * Several UDP listeners, one per address (docs/sip-server.md): whatever a peer sent to, it hears
 * back from that address and port. RFC 3581 §4: a response leaves from where its request came in;
 * a peer behind NAT, or using a connected socket, takes nothing from elsewhere. The dialog's later
 * requests leave from the same listener their Via and Contact name. (And a received= a sender wrote
 * itself is replaced by what the server saw.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, startServer, type Harness } from '../../support/harness.js';
import { request, sdp, SipPeer, uniq } from '../../support/sip-peer.js';
import type { ListenerInfo } from '../../../src/sip-server/transport/types.js';

let h: Harness;
let srf: Srf;
let second: ListenerInfo;
const peers: SipPeer[] = [];
const hangUps: (() => void)[] = [];

beforeEach(async () => {
  h = await startServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
      { transport: 'udp', host: '127.0.0.2', port: 0 },
    ],
  });
  second = h.listeners.find((l) => l.host === '127.0.0.2')!;
  srf = await connectApp(h, (s) =>
    s.invite((req, res) => {
      void s
        .createUAS(req, res, { localSdp: sdp(5000) })
        .then((dlg) => hangUps.push(() => void dlg.destroy()))
        .catch(() => undefined);
    }),
  );
});
afterEach(async () => {
  disconnectApp(srf);
  for (const p of peers.splice(0)) await p.close();
  hangUps.splice(0);
  await h.stop();
});

describe('a UDP listener per address', () => {
  it('answers from the address the request was sent to, and the dialog goes on from there', async () => {
    expect(second, 'the second UDP listener').toBeDefined();
    const peer = await SipPeer.create('udp');
    peers.push(peer);
    const to = { host: '127.0.0.2', port: second.port };
    const callId = uniq('addr');
    const fromTag = uniq('f');
    const uri = `sip:1000@127.0.0.2:${second.port}`;
    await peer.send(request({ method: 'INVITE', uri, peer, callId, fromTag, body: sdp(4000) }), to);
    const ok = await peer.waitResponse(200, 'INVITE');
    expect(ok.from).toEqual({ address: '127.0.0.2', port: second.port });
    expect(ok.message.headers.get('contact')).toBe(`<sip:127.0.0.2:${second.port}>`);
    await peer.send(request({ method: 'ACK', uri: `sip:127.0.0.2:${second.port}`, peer, callId, fromTag, toTag: ok.info.toTag!, to: `<${uri}>` }), to);

    // The app hangs up: the BYE names and leaves from the same listener.
    await new Promise<void>((resolve) => {
      const tick = (): void => (hangUps.length > 0 ? resolve() : void setTimeout(tick, 5));
      tick();
    });
    hangUps.shift()!();
    const bye = await peer.waitRequest('BYE');
    expect(bye.from).toEqual({ address: '127.0.0.2', port: second.port });
    expect(bye.message.headers.get('via')).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.2:${second.port};`));
  });

  it('a request the server answers itself, and a malformed one, are answered from there too', async () => {
    const peer = await SipPeer.create('udp');
    peers.push(peer);
    const to = { host: '127.0.0.2', port: second.port };
    // An OPTIONS no app takes: the server answers it.
    await peer.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.2:${second.port}`, peer }), to);
    const answered = await peer.wait((r) => r.message.kind === 'response' && r.info.cseqMethod === 'OPTIONS', undefined, 'an OPTIONS response');
    expect(answered.from).toEqual({ address: '127.0.0.2', port: second.port });
    // A Max-Forwards that is not a number: 400, from the listener it was sent to.
    const broken = request({ method: 'OPTIONS', uri: `sip:127.0.0.2:${second.port}`, peer }).replace('Max-Forwards: 70', 'Max-Forwards: many');
    await peer.send(broken, to);
    const bad = await peer.waitResponse(400, 'OPTIONS');
    expect(bad.from).toEqual({ address: '127.0.0.2', port: second.port });
  });

  it("a received= the sender wrote in its own Via is replaced by the address the request came from (RFC 3261 §18.2.1)", async () => {
    const peer = await SipPeer.create('udp');
    peers.push(peer);
    const to = { host: '127.0.0.2', port: second.port };
    const options = request({ method: 'OPTIONS', uri: `sip:127.0.0.2:${second.port}`, peer }).replace(/;rport\r\n/, ';received=127.0.0.9\r\n');
    await peer.send(options, to);
    const answered = await peer.wait((r) => r.message.kind === 'response' && r.info.cseqMethod === 'OPTIONS', undefined, 'an OPTIONS response');
    expect(answered.message.headers.get('via')).toMatch(/;received=127\.0\.0\.1$/);
  });
});
