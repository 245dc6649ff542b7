/**
 * Conformance, robustness and scale (spec §3 items 51–53): many concurrent
 * dialogs over UDP and TCP with counts returning to zero, an app connection
 * dropping mid-call, and UTF-8 surviving every hop.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { ControlPeer } from '../../support/control-peer.js';
import { connectApp, disconnectApp, eventually, SECRET, sleep, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Transport } from '../../support/sip-peer.js';

const T1 = 50;
let h: Harness;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 5000 } });
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await h.stop();
});

/** What a peer received, by kind, for failure messages. */
function tally(p: SipPeer): string {
  const counts = new Map<string, number>();
  for (const r of p.received) {
    const k = r.message.kind === 'response' ? `${r.message.status} ${r.info.cseqMethod}` : r.message.method;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}

async function peer(t: Transport): Promise<SipPeer> {
  const s = await SipPeer.create(t);
  closers.push(() => s.close());
  return s;
}

describe('scale and robustness (spec §3 items 51–53)', () => {
  it('item 51: 1,000 concurrent dialogs over UDP and 1,000 over TCP, then BYE: dialogs, transactions and timers return to zero', async () => {
    const srf = await connectApp(h, (s) => s.invite((req, res) => void s.createUAS(req, res, { localSdp: sdp(5000) }).catch(() => undefined)));
    closers.push(() => disconnectApp(srf));
    const N = 1000;
    for (const t of ['udp', 'tcp'] as const) {
      const caller = await peer(t);
      const port = t === 'udp' ? h.udp.port : h.tcp.port;
      const calls = Array.from({ length: N }, () => ({ callId: uniq('s'), fromTag: uniq('f') }));
      const byCallId = new Map(calls.map((c) => [c.callId, c]));
      const toTags = new Map<string, string>();
      // ACK each answer when it arrives, as a real UA does (RFC 3261 §13.2.2.4).
      caller.onMessage = (r) => {
        const c = byCallId.get(r.info.callId);
        if (c === undefined || r.message.kind !== 'response' || r.message.status !== 200 || r.info.cseqMethod !== 'INVITE') return;
        toTags.set(c.callId, r.info.toTag!);
        void caller.send(request({ method: 'ACK', uri: `sip:x@127.0.0.1`, peer: caller, ...c, toTag: r.info.toTag!, to: '<sip:1000@x>' }), { port });
      };
      // In bursts of 100, each once the one before is answered: the peer does not retransmit, so it must
      // not overrun loopback socket buffers, however slowly a busy machine reads them.
      for (const [i, c] of calls.entries()) {
        if (i % 100 === 0 && i > 0) await eventually(() => toTags.size >= i, 20_000, `answers to the first ${i} INVITEs over ${t}`);
        await caller.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: caller, ...c, body: sdp(4000) }), { port });
      }
      // Count calls answered, not 200s: a 200 is retransmitted until its ACK arrives.
      await eventually(() => toTags.size === N, 20_000, `${N} answers over ${t}`);
      expect(h.server.status().dialogs).toBe(N);
      const byeAnswers = (): number => caller.count((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'BYE');
      for (const [i, c] of calls.entries()) {
        if (i % 100 === 0 && i > 0) await eventually(() => byeAnswers() >= i, 20_000, `answers to the first ${i} BYEs over ${t}`);
        const toTag = toTags.get(c.callId)!;
        await caller.send(request({ method: 'BYE', uri: `sip:x@127.0.0.1`, peer: caller, ...c, toTag, cseq: 2, to: '<sip:1000@x>' }), { port });
      }
      await eventually(
        () => caller.count((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'BYE') >= N,
        20_000,
        `${N} BYE answers over ${t}`,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; received ${tally(caller)}; server ${JSON.stringify(h.server.status())}`);
      });
      expect(h.server.status().dialogs).toBe(0);
    }
    await eventually(() => {
      const s = h.server.status();
      return s.serverTransactions === 0 && s.clientTransactions === 0 && s.pendingAppRequests === 0 && s.timers === 0 && s.pendingInvites === 0;
    }, 64 * T1 + 5000, 'all transactions and timers to drain');
  }, 60_000);

  it('item 52: an app connection drops: its pending requests get 503, its routes go, new calls go to the other app, its calls are hung up and then get 481', async () => {
    const sip = await peer('udp');
    const a = await ControlPeer.connect(h.controlPort);
    closers.push(() => a.close());
    await a.authenticate(SECRET);
    await a.reply(a.send('route|invite'));
    // an answered call owned by A
    const callId = uniq('d');
    const fromTag = uniq('f');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000) }), { port: h.udp.port });
    const f = await a.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE'));
    await a.reply(a.send(`sip|${f.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`));
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(request({ method: 'ACK', uri: 'sip:x@127.0.0.1', peer: sip, callId, fromTag, toTag: ok.info.toTag!, to: '<sip:1000@x>' }), { port: h.udp.port });
    // a second call waiting for A's answer
    const pendingId = uniq('p');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: pendingId, body: sdp(4000) }), { port: h.udp.port });
    await a.wait((x) => x.tokens[1] === 'sip' && x.sip!.includes(pendingId));
    a.close();
    const unavailable = await sip.waitResponse(503, 'INVITE');
    expect(unavailable.info.callId).toBe(pendingId);
    const bye = await sip.waitRequest('BYE');
    expect(bye.info.callId).toBe(callId);
    expect(bye.message.headers.get('reason')).toContain('application connection lost');
    await sip.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await sip.send(request({ method: 'INFO', uri: 'sip:x@127.0.0.1', peer: sip, callId, fromTag, toTag: ok.info.toTag!, cseq: 5, to: '<sip:1000@x>' }), { port: h.udp.port });
    await sip.waitResponse(481, 'INFO');
    // with no app left, new calls get 503; once another app routes invite, they reach it
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000) }), { port: h.udp.port });
    await sip.waitResponse(503, 'INVITE');
    const b = await ControlPeer.connect(h.controlPort);
    closers.push(() => b.close());
    await b.authenticate(SECRET);
    await b.reply(b.send('route|invite'));
    const later = uniq('l');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: later, body: sdp(4000) }), { port: h.udp.port });
    await b.wait((x) => x.tokens[1] === 'sip' && x.sip!.includes(later));
    expect(h.server.status().appConnections).toBe(1);
  });

  it('item 53: UTF-8 header values and bodies survive both directions with byte-correct Content-Length and frame length', async () => {
    const sip = await peer('tcp');
    const name = 'Zoë Ŝmith 漢字 ✓';
    const body = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Ça marche — 電話\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`;
    let seen: { from: string; body: string } | undefined;
    const srf: Srf = await connectApp(h, (s) =>
      s.invite((req, res) => {
        seen = { from: req.get('From'), body: req.body };
        res.send(200, { body, headers: { 'X-Greeting': 'héllo wörld ☎' } });
      }),
    );
    closers.push(() => disconnectApp(srf));
    const callId = uniq('u');
    const fromTag = uniq('f');
    const inv = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.tcp.port}`, peer: sip, callId, fromTag, body }).replace('"Test Caller"', `"${name}"`);
    await sip.send(inv, { port: h.tcp.port });
    const ok = await sip.waitResponse(200, 'INVITE');
    expect(ok.message.headers.get('x-greeting')).toBe('héllo wörld ☎');
    expect(ok.message.body.toString('utf8')).toBe(body);
    expect(ok.message.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(seen?.from).toContain(name);
    expect(seen?.body).toBe(body);
    // and outward: the app sends UTF-8 to the peer
    const out = srf.createUAC(`sip:callee@127.0.0.1:${sip.port};transport=tcp`, { localSdp: body, headers: { Subject: 'Réunion ☕' } });
    const outInv = await sip.nextRequest('INVITE');
    expect(outInv.message.headers.get('subject')).toBe('Réunion ☕');
    expect(outInv.message.body.toString('utf8')).toBe(body);
    expect(outInv.message.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    await sip.send(respond(outInv, 486, 'Busy Here', { toTag: 'x' }), { port: h.tcp.port });
    await expect(out).rejects.toMatchObject({ status: 486 });
    await sleep(10);
  });
});
