/**
 * Conformance, CDR events (spec §3 items 48–50, table §2.12).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { ControlPeer, type Frame } from '../../support/control-peer.js';
import { connectApp, disconnectApp, eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

let h: Harness;
let sip: SipPeer;
let p: ControlPeer;
let cdr: ControlPeer;

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  sip = await SipPeer.create('udp');
  p = await ControlPeer.connect(h.controlPort);
  await p.authenticate(SECRET);
  await p.reply(p.send('route|invite'));
  cdr = await ControlPeer.connect(h.controlPort);
  await cdr.authenticate(SECRET);
  for (const t of ['attempt', 'start', 'stop']) await cdr.reply(cdr.send(`route|cdr:${t}`));
});
afterEach(async () => {
  p.close();
  cdr.close();
  await sip.close();
  await h.stop();
});

const cdrs = (): Frame[] => cdr.frames.filter((f) => f.tokens[1]?.startsWith('cdr:') === true);
const summary = (): string[] => cdrs().map((f) => [f.tokens[1], f.tokens[2], ...f.tokens.slice(4)].join(' '));
const app = (sip: string, dialogId = '', txnId = ''): Promise<Frame> => p.reply(p.send(`sip|${txnId}|${dialogId}`, sip));

async function inbound(): Promise<{ callId: string; fromTag: string; branch: string; txn: string }> {
  const callId = uniq('cdr');
  const fromTag = uniq('f');
  const branch = `z9hG4bK${uniq('b')}`;
  await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, branch, body: sdp(4000) }), { port: h.udp.port });
  const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE'));
  return { callId, fromTag, branch, txn: f.tokens[8]! };
}

describe('CDR events (spec §3 items 48–50)', () => {
  it('items 48–50: inbound answered call, BYE from the network: attempt/network, start/application/uas, stop/network/normal-release', async () => {
    const c = await inbound();
    await app(`SIP/2.0 200 OK\r\nCall-ID: ${c.callId}\r\n\r\n${sdp(5000)}`, '', c.txn);
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(request({ method: 'BYE', uri: `sip:x@127.0.0.1`, peer: sip, callId: c.callId, fromTag: c.fromTag, toTag: ok.info.toTag!, cseq: 2, to: '<sip:1000@x>' }), { port: h.udp.port });
    await eventually(() => cdrs().length === 3);
    expect(summary()).toEqual(['cdr:attempt network', 'cdr:start application uas', 'cdr:stop network normal-release']);
    for (const f of cdrs()) expect(f.tokens[3]).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
    expect(cdrs()[0]!.sip).toMatch(/^INVITE /);
    expect(cdrs()[1]!.sip).toMatch(/^SIP\/2\.0 200 /);
    expect(cdrs()[2]!.sip).toMatch(/^BYE /);
    // no CDR went to the connection that did not route them (item 48)
    expect(p.frames.some((f) => f.tokens[1]?.startsWith('cdr:') === true)).toBe(false);
  });

  it('item 50: inbound rejected call: attempt/network, stop/application/call-rejected', async () => {
    const c = await inbound();
    await app(`SIP/2.0 486 Busy Here\r\nCall-ID: ${c.callId}\r\n\r\n`, '', c.txn);
    await eventually(() => cdrs().length === 2);
    expect(summary()).toEqual(['cdr:attempt network', 'cdr:stop application call-rejected']);
    expect(cdrs()[1]!.sip).toMatch(/^SIP\/2\.0 486 /);
  });

  it('item 50: inbound canceled call: attempt/network, stop/network/call-canceled with the CANCEL', async () => {
    const c = await inbound();
    await sip.send(request({ method: 'CANCEL', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: c.callId, fromTag: c.fromTag, branch: c.branch }), { port: h.udp.port });
    await eventually(() => cdrs().length === 2);
    expect(summary()).toEqual(['cdr:attempt network', 'cdr:stop network call-canceled']);
    expect(cdrs()[1]!.sip).toMatch(/^CANCEL /);
  });

  it('item 50: outbound answered then BYE by the app: attempt/application, start/network/uac, stop/application/normal-release', async () => {
    const echo = await app(`INVITE sip:agent@127.0.0.1:${sip.port} SIP/2.0\r\n\r\n${sdp(7000)}`);
    const inv = await sip.nextRequest('INVITE');
    await sip.send(respond(inv, 200, 'OK', { toTag: 'o', contact: `<sip:agent@127.0.0.1:${sip.port}>`, body: sdp(8000) }), { port: h.udp.port });
    const ok = await p.wait((f) => f.tokens[8] === echo.tokens[10] && f.sip!.startsWith('SIP/2.0 200'));
    await app('ACK sip:x SIP/2.0\r\n\r\n', ok.tokens[9]);
    await app('BYE sip:placeholder SIP/2.0\r\n\r\n', ok.tokens[9]);
    await eventually(() => cdrs().length === 3);
    expect(summary()).toEqual(['cdr:attempt application', 'cdr:start network uac', 'cdr:stop application normal-release']);
  });

  it('item 50: outbound rejected: attempt/application, stop/network/call-rejected (487 → call-canceled)', async () => {
    await app(`INVITE sip:agent@127.0.0.1:${sip.port} SIP/2.0\r\n\r\n${sdp(7000)}`);
    const inv = await sip.nextRequest('INVITE');
    await sip.send(respond(inv, 603, 'Decline', { toTag: 'r' }), { port: h.udp.port });
    await eventually(() => cdrs().length === 2);
    expect(summary()).toEqual(['cdr:attempt application', 'cdr:stop network call-rejected']);
  });

  it('item 49: drachtio-srf cdr listeners get (source, time[, role|reason], msg) in that order', async () => {
    cdr.close();
    const got: unknown[][] = [];
    const srf: Srf = await connectApp(h, (s) => {
      s.on('cdr:attempt', (...args: unknown[]) => got.push(['attempt', ...args]));
      s.on('cdr:stop', (...args: unknown[]) => got.push(['stop', ...args]));
    });
    try {
      const c = await inbound();
      await app(`SIP/2.0 404 Not Found\r\nCall-ID: ${c.callId}\r\n\r\n`, '', c.txn);
      await eventually(() => got.length === 2);
      expect(got[0]![1]).toBe('network');
      expect(got[0]![2]).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
      expect((got[0]![3] as { method: string }).method).toBe('INVITE');
      expect(got[1]!.slice(1, 2)).toEqual(['application']);
      expect(got[1]![3]).toBe('call-rejected');
      expect((got[1]![4] as { status: number }).status).toBe(404);
    } finally {
      disconnectApp(srf);
    }
  });
});
