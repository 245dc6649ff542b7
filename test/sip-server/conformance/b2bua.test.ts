/**
 * Conformance, srf.createB2BUA — the contact-centre core (spec §3 items
 * 28–33): caller A → server → unmodified drachtio-srf B2BUA → callee B.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';

const T1 = 40;
let h: Harness;
let a: SipPeer;
let b: SipPeer;
let srf: Srf;
let appEvents: string[];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  a = await SipPeer.create('udp');
  b = await SipPeer.create('tcp');
  appEvents = [];
  srf = await connectApp(h, (s) =>
    s.invite((req, res) => {
      s.createB2BUA(req, res, `sip:agent@127.0.0.1:${b.port};transport=tcp`, {
        localSdpB: req.body,
        proxyResponseHeaders: ['X-Agent-Info'],
        headers: { 'X-Leg': 'B' },
      }).then(
        ({ uas, uac }) => {
          appEvents.push('connected');
          uas.on('destroy', () => {
            appEvents.push('A hung up');
            uac.destroy();
          });
          uac.on('destroy', () => {
            appEvents.push('B hung up');
            uas.destroy();
          });
        },
        (err: { status?: number }) => appEvents.push(`failed ${err.status ?? '?'}`),
      );
    }),
  );
});
afterEach(async () => {
  disconnectApp(srf);
  await a.close();
  await b.close();
  await h.stop();
});

function callIn(): { text: string; callId: string; fromTag: string; branch: string } {
  const callId = uniq('a');
  const fromTag = uniq('ft');
  const branch = `z9hG4bK${uniq('br')}`;
  return { callId, fromTag, branch, text: request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: a, callId, fromTag, branch, body: sdp(4000) }) };
}

async function ackA(r: Received, inv: { callId: string; fromTag: string }): Promise<void> {
  await a.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: a, callId: inv.callId, fromTag: inv.fromTag, toTag: r.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
}

/** Sets up a connected call and returns both sides' view of it. */
async function connected(): Promise<{ inv: ReturnType<typeof callIn>; okA: Received; invB: Received }> {
  const inv = callIn();
  await a.send(inv.text, { port: h.udp.port });
  const invB = await b.nextRequest('INVITE');
  await b.send(respond(invB, 200, 'OK', { toTag: 'btag', contact: `<sip:agent@127.0.0.1:${b.port};transport=tcp>`, body: sdp(9000) }), { port: h.tcp.port });
  await b.waitRequest('ACK');
  const okA = await a.waitResponse(200, 'INVITE');
  await ackA(okA, inv);
  await eventually(() => appEvents.includes('connected'));
  return { inv, okA, invB };
}

describe('srf.createB2BUA (spec §3 items 28–33)', () => {
  it('item 28: both legs run concurrently over UDP (A) and TCP (B); B-leg From/Contact @localhost are rewritten', async () => {
    const { invB } = await connected();
    const hd = invB.message.headers;
    expect(hd.get('from')).toMatch(new RegExp(`<sip:caller@127\\.0\\.0\\.1:${h.tcp.port}>;tag=`));
    expect(hd.get('contact')).toBe(`"Test Caller" <sip:caller@127.0.0.1:${h.tcp.port};transport=tcp>`);
    expect(hd.get('via')).toMatch(/^SIP\/2\.0\/TCP /);
    expect(hd.get('x-leg')).toBe('B');
    expect(h.server.status().dialogs).toBe(2);
  });

  it('item 29: 180/183 from B are relayed to A, including the headers the app copies', async () => {
    const inv = callIn();
    await a.send(inv.text, { port: h.udp.port });
    const invB = await b.nextRequest('INVITE');
    await b.send(respond(invB, 180, 'Ringing', { toTag: 'r1', extra: ['X-Agent-Info: desk 12'] }), { port: h.tcp.port });
    const ring = await a.waitResponse(180, 'INVITE');
    expect(ring.message.headers.get('x-agent-info')).toBe('desk 12');
    await b.send(respond(invB, 183, 'Session Progress', { toTag: 'r1', body: sdp(9100) }), { port: h.tcp.port });
    const early = await a.waitResponse(183, 'INVITE');
    expect(early.message.body.toString()).toBe(sdp(9100));
  });

  it('item 30: a 200 from B makes the app ACK B and answer A with B’s SDP; A’s ACK reaches the app', async () => {
    const { okA } = await connected();
    expect(okA.message.body.toString()).toBe(sdp(9000));
    expect(appEvents).toEqual(['connected']);
  });

  it('item 31: a CANCEL from A gets 200 and 487 on A, and the app CANCELs B', async () => {
    const inv = callIn();
    await a.send(inv.text, { port: h.udp.port });
    const invB = await b.nextRequest('INVITE');
    await b.send(respond(invB, 180, 'Ringing', { toTag: 'r2' }), { port: h.tcp.port });
    await a.waitResponse(180, 'INVITE');
    await a.send(request({ method: 'CANCEL', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: a, callId: inv.callId, fromTag: inv.fromTag, branch: inv.branch }), { port: h.udp.port });
    await a.waitResponse(200, 'CANCEL');
    await a.waitResponse(487, 'INVITE');
    const cancelB = await b.waitRequest('CANCEL');
    expect(cancelB.info.via.branch).toBe(invB.info.via.branch);
    await b.send(respond(cancelB, 200, 'OK', { toTag: 'r2' }), { port: h.tcp.port });
    await b.send(respond(invB, 487, 'Request Terminated', { toTag: 'r2' }), { port: h.tcp.port });
    await eventually(() => appEvents.includes('failed 487'));
    await eventually(() => h.server.status().dialogs === 0);
  });

  it('item 32: a failure from B (404) is passed to A', async () => {
    const inv = callIn();
    await a.send(inv.text, { port: h.udp.port });
    const invB = await b.nextRequest('INVITE');
    await b.send(respond(invB, 404, 'Not Found', { toTag: 'n1' }), { port: h.tcp.port });
    await b.waitRequest('ACK');
    const r = await a.waitResponse(404, 'INVITE');
    expect(r.info.callId).toBe(inv.callId);
  });

  it('item 33: a BYE from A ends B (and a BYE from B ends A); dialog and transaction counts return to zero', async () => {
    const first = await connected();
    await a.send(request({ method: 'BYE', uri: `sip:127.0.0.1:${h.udp.port}`, peer: a, callId: first.inv.callId, fromTag: first.inv.fromTag, toTag: first.okA.info.toTag!, cseq: 2, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
    await a.waitResponse(200, 'BYE');
    const byeB = await b.waitRequest('BYE');
    await b.send(respond(byeB, 200, 'OK'), { port: h.tcp.port });

    const second = await connected();
    const byeFromB = [
      `BYE sip:127.0.0.1:${h.tcp.port};transport=tcp SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.1:${b.port};branch=z9hG4bK${uniq('bb')}`,
      'Max-Forwards: 70',
      `From: ${second.invB.message.headers.get('to')};tag=btag`,
      `To: ${second.invB.message.headers.get('from')}`,
      `Call-ID: ${second.invB.info.callId}`,
      'CSeq: 1 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await b.send(byeFromB, { port: h.tcp.port });
    await b.waitResponse(200, 'BYE');
    const byeA = await a.waitRequest('BYE');
    await a.send(respond(byeA, 200, 'OK'), { port: h.udp.port });
    await eventually(() => appEvents.filter((e) => e.endsWith('hung up')).length === 2);
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'dialogs gone');
    // Transactions linger only for their RFC 3261 wait timers (64·T1 at most here).
    await eventually(() => {
      const s = h.server.status();
      return s.serverTransactions === 0 && s.clientTransactions === 0 && s.pendingAppRequests === 0;
    }, 64 * T1 + 3000, 'transactions gone');
  });
});
