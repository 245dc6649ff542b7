/**
 * Conformance, srf.createUAS (spec §3 items 8–17): a SIP peer calls in, the
 * unmodified drachtio-srf (or a scripted control peer for exact frames) answers.
 * T1 is shortened to 40 ms so that 64·T1 timers run in 2.6 s.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { ControlPeer } from '../../support/control-peer.js';
import { connectApp, dialogIdOf, disconnectApp, eventually, SECRET, sleep, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

const T1 = 40;
const T2 = 320;
let h: Harness;
let sip: SipPeer;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: T2, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  sip = await SipPeer.create('udp');
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await sip.close();
  await h.stop();
});

async function app(setup: (srf: Srf) => void): Promise<Srf> {
  const srf = await connectApp(h, setup);
  closers.push(() => disconnectApp(srf));
  return srf;
}

async function scripted(routes: string[] = ['invite']): Promise<ControlPeer> {
  const p = await ControlPeer.connect(h.controlPort);
  closers.push(() => p.close());
  await p.authenticate(SECRET);
  for (const r of routes) await p.reply(p.send(`route|${r}`));
  return p;
}

function invite(extra: Partial<Parameters<typeof request>[0]> = {}): { text: string; callId: string; fromTag: string } {
  const callId = extra.callId ?? uniq('c');
  const fromTag = extra.fromTag ?? uniq('t');
  return { text: request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000), ...extra }), callId, fromTag };
}

const toServer = (): { port: number } => ({ port: h.udp.port });

describe('srf.createUAS (spec §3 items 8–17)', () => {
  it('item 8: a new INVITE gets 100 Trying on the wire without waiting for the app; a retransmission is absorbed', async () => {
    const p = await scripted();
    const inv = invite();
    // The app does not read its socket until the 100 has arrived: the server must not wait for it.
    p.socket.pause();
    await sip.send(inv.text, toServer());
    await sip.waitResponse(100, 'INVITE');
    expect(p.frames.filter((f) => f.tokens[1] === 'sip').length).toBe(0);
    p.socket.resume();
    await p.wait((f) => f.tokens[1] === 'sip');
    await sip.send(inv.text, toServer()); // retransmission
    await sip.waitResponse(100, 'INVITE'); // the last provisional is sent again
    await p.barrier(); // anything the retransmission made the server send the app has arrived
    expect(p.frames.filter((f) => f.tokens[1] === 'sip').length).toBe(1);
  });

  it('item 9: with no connection routing invite, the INVITE gets 503', async () => {
    await scripted(['options']);
    await sip.send(invite().text, toServer());
    const r = await sip.waitResponse(503, 'INVITE');
    expect(r.info.toTag).toBeDefined();
    // Apps are there, none takes INVITE: not a passing state, so no Retry-After.
    expect(r.message.headers.get('retry-after')).toBeUndefined();
  });

  it('with no application connected at all (the engine starting, or the end of its stop), a new INVITE gets 503 with Retry-After', async () => {
    await sip.send(invite().text, toServer());
    const r = await sip.waitResponse(503, 'INVITE');
    expect(r.raw.split('\r\n')[0]).toBe('SIP/2.0 503 Service Unavailable (no application connected)');
    expect(r.message.headers.get('retry-after')).toBe('5');
  });

  it('item 10: the app’s skeletal 200 becomes a full response (Vias, tags, Contact, Content-Type, byte Content-Length, Server, app X- headers; app Via/Content-Length ignored)', async () => {
    const p = await scripted();
    const inv = invite({ extra: ['Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKproxyhop'] });
    await sip.send(inv.text, toServer());
    const f = await p.wait((x) => x.tokens[1] === 'sip');
    const body = sdp(5000).replace('s=-', 's=Ünïcødé');
    const skeletal = [
      'SIP/2.0 200 OK',
      `Call-ID: ${inv.callId}`,
      'cseq: 1 INVITE',
      'Via: SIP/2.0/UDP 6.6.6.6;branch=z9hG4bKbogus',
      'Content-Length: 3',
      'X-CC-Agent: 1001',
      '',
      body,
    ].join('\r\n');
    const echo = await p.reply(p.send(`sip|${f.tokens[8]}|`, skeletal));
    expect(echo.tokens[3]).toBe('OK');
    const r = await sip.waitResponse(200, 'INVITE');
    const hdr = r.message.headers;
    expect(hdr.values('via')).toEqual([
      `SIP/2.0/UDP 127.0.0.1:${sip.port};branch=${/branch=([^;]+)/.exec(inv.text)![1]};rport=${sip.port};received=127.0.0.1`,
      'SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKproxyhop',
    ]);
    expect(hdr.get('from')).toBe(`"Test Caller" <sip:caller@127.0.0.1:${sip.port}>;tag=${inv.fromTag}`);
    expect(r.info.toTag).toMatch(/^[0-9a-f]+$/);
    expect(hdr.get('call-id')).toBe(inv.callId);
    expect(hdr.get('cseq')).toBe('1 INVITE');
    expect(hdr.get('contact')).toBe(`<sip:127.0.0.1:${h.udp.port}>`);
    expect(hdr.get('content-type')).toBe('application/sdp');
    expect(hdr.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(r.message.body.toString('utf8')).toBe(body);
    expect(hdr.get('x-cc-agent')).toBe('1001');
    expect(hdr.get('server')).toBe('switchboard-test'); // as on the server's own responses, since the app named no Server
    expect(r.raw).not.toContain('6.6.6.6');
  });

  it('item 11: the echo carries the txn id and the dialog id in the right slots; createUAS resolves with dialog.id = Call-ID;from-tag=<caller tag>', async () => {
    const p = await scripted();
    const inv = invite();
    await sip.send(inv.text, toServer());
    const f = await p.wait((x) => x.tokens[1] === 'sip');
    const echo = await p.reply(p.send(`sip|${f.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${inv.callId}\r\n\r\n${sdp(5000)}`));
    expect(echo.tokens[10]).toBe(f.tokens[8]);
    expect(echo.tokens[11]).toBe(`${inv.callId};from-tag=${inv.fromTag}`);
    expect(echo.tokens.slice(12, 14)).toEqual(['', 'Msg sent:']);
    expect(echo.sip).toMatch(/\r\nTo: <sip:1000@127\.0\.0\.1:\d+>;tag=[0-9a-f]+\r\n/);
    expect(echo.sip).toMatch(/\r\nContact: <sip:127\.0\.0\.1:\d+>\r\n/);

    const inv2 = invite();
    const ids: string[] = [];
    p.close();
    await app((srf) =>
      srf.invite((req, res) => {
        void srf.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => ids.push(dialogIdOf(d)));
      }),
    );
    await sip.send(inv2.text, toServer());
    await sip.waitResponse(200, 'INVITE');
    await eventually(() => ids.length === 1);
    expect(ids[0]).toBe(`${inv2.callId};from-tag=${inv2.fromTag}`);
  });

  it('item 12: 180 then 200 both work; an app-chosen To tag is honoured; a second final gets NOK', async () => {
    const p = await scripted();
    const inv = invite();
    await sip.send(inv.text, toServer());
    const f = await p.wait((x) => x.tokens[1] === 'sip');
    const txn = f.tokens[8];
    await p.reply(p.send(`sip|${txn}|`, `SIP/2.0 180 Ringing\r\nCall-ID: ${inv.callId}\r\nTo: <sip:1000@x>;tag=apptag1\r\nServer: queue-app/2\r\n\r\n`));
    const ringing = await sip.waitResponse(180, 'INVITE');
    expect(ringing.info.toTag).toBe('apptag1');
    expect(ringing.message.headers.values('server')).toEqual(['queue-app/2']); // the app's own, not ours beside it
    expect((await p.reply(p.send(`sip|${txn}|`, `SIP/2.0 200 OK\r\nCall-ID: ${inv.callId}\r\n\r\n${sdp(5000)}`))).tokens[3]).toBe('OK');
    expect((await sip.waitResponse(200, 'INVITE')).info.toTag).toBe('apptag1');
    const second = await p.reply(p.send(`sip|${txn}|`, `SIP/2.0 486 Busy Here\r\nCall-ID: ${inv.callId}\r\n\r\n`));
    expect(second.tokens[3]).toBe('NOK');
    expect(await sip.quiet((r) => r.message.kind === 'response' && r.message.status === 486, 150)).toEqual([]);
  });

  it('item 13: the 200 is retransmitted over UDP until the ACK; the ACK reaches the app with the dialog id and the Dialog emits ack', async () => {
    let acked = false;
    await app((srf) =>
      srf.invite((req, res) => {
        void srf.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => d.on('ack', () => (acked = true)));
      }),
    );
    const inv = invite();
    await sip.send(inv.text, toServer());
    const first = await sip.waitResponse(200, 'INVITE');
    await sip.waitResponse(200, 'INVITE'); // retransmitted at T1
    await sip.waitResponse(200, 'INVITE'); // and again at 2·T1
    await sip.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag: first.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), toServer());
    await eventually(() => acked, 10_000, 'Dialog ack event');
    // Retransmissions come at most T2 apart, so a window of 2·T2 would hold two more had the ACK not
    // stopped them; one may have been on its way as the ACK arrived.
    const after = sip.count((r) => r.message.kind === 'response' && r.message.status === 200);
    await sleep(2 * T2);
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 200)).toBeLessThanOrEqual(after + 1);
  });

  it('a stray ACK numbered higher than any INVITE does not make the real ACK of the next re-INVITE look like a duplicate', async () => {
    let reason: string | undefined;
    let acks = 0;
    await app((srf) =>
      srf.invite((req, res) => {
        void srf.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => {
          d.on('ack', () => acks++);
          d.on('modify', (_r: unknown, r: { send(status: number, opts: { body: string }): void }) => r.send(200, { body: sdp(6000, 'sendrecv', 2) }));
          d.on('destroy', (_m: unknown, why?: string) => (reason = why ?? 'destroyed'));
        });
      }),
    );
    const inv = invite();
    const ack = (cseq: number, toTag: string): string =>
      request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag, cseq, to: `<sip:1000@127.0.0.1:${h.udp.port}>` });
    await sip.send(inv.text, toServer());
    const first = await sip.waitResponse(200, 'INVITE');
    const toTag = first.info.toTag!;
    await sip.send(ack(1, toTag), toServer());
    await eventually(() => acks === 1, 10_000, 'the first ACK');
    await sip.send(ack(9, toTag), toServer()); // stray: no INVITE was numbered 9
    const reinvite = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag, cseq: 2, body: sdp(4000, 'sendonly'), to: `<sip:1000@127.0.0.1:${h.udp.port}>` });
    await sip.send(reinvite, toServer());
    await sip.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseq === 2);
    await sip.send(ack(2, toTag), toServer());
    await eventually(() => acks === 2, 10_000, 'the re-INVITE ACK at the app');
    // Taken as the real ACK: no BYE for "ACK timeout" at 64·T1, the call stays.
    expect(await sip.quiet((r) => r.message.kind === 'request' && r.message.method === 'BYE', 64 * T1 + 500)).toEqual([]);
    expect(reason).toBeUndefined();
    expect(acks).toBe(2);
  });

  it('item 14: with no ACK for 64·T1 the server sends BYE (ACK timeout) and the Dialog emits destroy with reason "ACK timeout"', async () => {
    let reason: string | undefined;
    await app((srf) =>
      srf.invite((req, res) => {
        void srf.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => d.on('destroy', (_m: unknown, r?: string) => (reason = r as string)));
      }),
    );
    await sip.send(invite().text, toServer());
    await sip.waitResponse(200, 'INVITE');
    const bye = await sip.waitRequest('BYE', 64 * T1 + 10_000);
    expect(bye.message.headers.get('reason')).toBe('SIP ;cause=200 ;text="ACK timeout"');
    await sip.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await eventually(() => reason !== undefined, 10_000, 'destroy');
    expect(reason).toBe('ACK timeout');
    await eventually(() => h.server.status().dialogs === 0);
  });

  it('item 15: a non-2xx from the app is retransmitted until the ACK, which is absorbed and not forwarded', async () => {
    const p = await scripted();
    const inv = invite();
    await sip.send(inv.text, toServer());
    const f = await p.wait((x) => x.tokens[1] === 'sip');
    await p.reply(p.send(`sip|${f.tokens[8]}|`, `SIP/2.0 486 Busy Here\r\nCall-ID: ${inv.callId}\r\n\r\n`));
    const busy = await sip.waitResponse(486, 'INVITE');
    await sip.waitResponse(486, 'INVITE'); // Timer G
    const branch = /branch=([^;\s]+)/.exec(inv.text)![1]!;
    const ack = request({ method: 'ACK', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag: busy.info.toTag!, branch, to: `<sip:1000@127.0.0.1:${h.udp.port}>` });
    await sip.send(ack, toServer());
    // Timer G fires at most T2 apart: in 2·T2 two more would come had the ACK not stopped them (one may have been on its way).
    const n = sip.count((r) => r.message.kind === 'response' && r.message.status === 486);
    await sleep(2 * T2);
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 486)).toBeLessThanOrEqual(n + 1);
    await p.barrier(); // had the ACK been forwarded, its frame would be here by now
    expect(p.frames.filter((x) => x.tokens[1] === 'sip' && x.sip?.startsWith('ACK')).length).toBe(0);
  });

  it('item 16: CANCEL before the final: 200 to CANCEL, 487 to INVITE; drachtio-srf emits cancel on the request and a later createUAS fails without answering', async () => {
    let cancelled = false;
    let invited = false;
    let failed: unknown;
    await app((srf) =>
      srf.invite((req, res) => {
        invited = true;
        req.on('cancel', () => {
          cancelled = true;
          srf.createUAS(req, res, { localSdp: sdp(6000) }).catch((e: unknown) => (failed = e ?? 'rejected'));
        });
      }),
    );
    const inv = invite();
    await sip.send(inv.text, toServer());
    await sip.waitResponse(100, 'INVITE');
    await eventually(() => invited, 10_000, 'the INVITE at the app');
    const branch = /branch=([^;\s]+)/.exec(inv.text)![1]!;
    await sip.send(request({ method: 'CANCEL', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, branch, cseq: 1 }), toServer());
    const cancelOk = await sip.waitResponse(200, 'CANCEL');
    const terminated = await sip.waitResponse(487, 'INVITE');
    // §9.2: the response to the CANCEL and the INVITE's carry the same To tag (no tagged 1xx went before).
    expect(cancelOk.info.toTag).toBeDefined();
    expect(cancelOk.info.toTag).toBe(terminated.info.toTag);
    await eventually(() => cancelled && failed !== undefined, 10_000, 'cancel event and createUAS failure');
    expect(await sip.quiet((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE', 150)).toEqual([]);
  });

  it('item 16 (frames): the CANCEL frame carries the INVITE txn id; the app’s later 200 gets NOK', async () => {
    const p = await scripted();
    const inv = invite();
    await sip.send(inv.text, toServer());
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE'));
    const branch = /branch=([^;\s]+)/.exec(inv.text)![1]!;
    await sip.send(request({ method: 'CANCEL', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, branch }), toServer());
    const c = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('CANCEL'));
    expect(c.tokens[8]).toBe(f.tokens[8]);
    const late = await p.reply(p.send(`sip|${f.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${inv.callId}\r\n\r\n${sdp(1)}`));
    expect(late.tokens.slice(3)).toEqual(['NOK', 'Response not sent due to unknown transaction']);
  });

  it('item 17: a response to an unknown transaction gets NOK "Response not sent due to unknown transaction"', async () => {
    const p = await scripted();
    const r = await p.reply(p.send('sip|no-such-txn|', 'SIP/2.0 200 OK\r\nCall-ID: x\r\ncseq: 1 INVITE\r\n\r\n'));
    expect(r.tokens.slice(3)).toEqual(['NOK', 'Response not sent due to unknown transaction']);
  });
});

describe('BYE on an early dialog (RFC 3261 §15, §15.1.2)', () => {
  /** An app that rings (reliably when asked) and never answers; it records the cancels it hears. */
  async function ringingApp(provisional: { status: number; headers?: Record<string, string> }): Promise<{ invited: number[]; cancels: string[]; refused: unknown[] }> {
    const seen = { invited: [] as number[], cancels: [] as string[], refused: [] as unknown[] };
    await app((srf) =>
      srf.invite((req, res) => {
        seen.invited.push(1);
        req.on('cancel', () => {
          seen.cancels.push(req.get('Call-ID'));
          // As for a CANCEL: an answer after it is refused and nothing reaches the wire.
          srf.createUAS(req, res, { localSdp: sdp(6000) }).catch((e: unknown) => seen.refused.push(e ?? 'rejected'));
        });
        res.send(provisional.status, { headers: provisional.headers ?? {} });
      }),
    );
    return seen;
  }

  /** Nothing left behind: no transaction (after their wait timers), dialog, app request, pending or early INVITE, timer. */
  async function drained(): Promise<void> {
    await eventually(
      () => {
        const s = h.server.status();
        return s.serverTransactions === 0 && s.clientTransactions === 0 && s.pendingAppRequests === 0 && s.dialogs === 0 && s.pendingInvites === 0 && s.earlyInvites === 0 && s.timers === 0;
      },
      64 * T1 + 5000,
      () => `everything to drain: ${JSON.stringify(h.server.status())}`,
    );
  }

  for (const c of [
    { name: 'an ordinary 180', provisional: { status: 180 }, extra: [] as string[] },
    { name: 'a reliable 183 (the early dialog is in the tables)', provisional: { status: 183, headers: { Require: '100rel' } }, extra: ['Supported: 100rel'] },
  ]) {
    it(`after ${c.name} with a To tag, the caller's BYE with that tag gets 200, the INVITE 487, drachtio-srf emits cancel, and nothing is left after the 487 is ACKed`, async () => {
      const seen = await ringingApp(c.provisional);
      const inv = invite({ extra: c.extra });
      await sip.send(inv.text, toServer());
      const ringing = await sip.waitResponse(c.provisional.status, 'INVITE');
      const toTag = ringing.info.toTag!;
      expect(toTag).toBeTruthy();
      expect(h.server.status().earlyInvites).toBe(1);
      const to = `<sip:1000@127.0.0.1:${h.udp.port}>`;
      await sip.send(request({ method: 'BYE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag, cseq: 2, to }), toServer());
      const byeOk = await sip.waitResponse(200, 'BYE');
      expect(byeOk.info.toTag).toBe(toTag);
      const terminated = await sip.waitResponse(487, 'INVITE');
      expect(terminated.info.toTag).toBe(toTag);
      expect(sip.received.indexOf(byeOk)).toBeLessThan(sip.received.indexOf(terminated));
      await eventually(() => seen.cancels.length === 1 && seen.refused.length === 1, 10_000, 'cancel event and createUAS failure');
      expect(seen.cancels).toEqual([inv.callId]);
      const branch = /branch=([^;\s]+)/.exec(inv.text)![1]!;
      await sip.send(request({ method: 'ACK', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag, branch, to }), toServer());
      await drained();
      expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE')).toBe(0);
      expect(seen.invited).toEqual([1]);
    });
  }

  it('other requests on the early dialog of an ordinary 180 are answered, never 481 (RFC 5057: that would end the dialog), and the call still rings', async () => {
    const seen = await ringingApp({ status: 180 });
    const inv = invite();
    await sip.send(inv.text, toServer());
    const toTag = (await sip.waitResponse(180, 'INVITE')).info.toTag!;
    const to = `<sip:1000@127.0.0.1:${h.udp.port}>`;
    const inDialog = (method: string, cseq: number, extra: Partial<Parameters<typeof request>[0]> = {}): string =>
      request({ method, uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId: inv.callId, fromTag: inv.fromTag, toTag, cseq, to, ...extra });
    const answer = async (text: string, method: string) => {
      await sip.send(text, toServer());
      return sip.wait((r) => r.message.kind === 'response' && r.info.cseqMethod === method && r.message.status >= 200);
    };
    const status = (r: Awaited<ReturnType<typeof answer>>): number => (r.message.kind === 'response' ? r.message.status : 0);
    // Legacy INFO (a gateway's DTMF): taken; an Info Package we never offered (RFC 6086 §4.2.2): 469.
    expect(status(await answer(inDialog('INFO', 2, { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' }), 'INFO'))).toBe(200);
    const pkg = await answer(inDialog('INFO', 3, { extra: ['Info-Package: foo'], body: 'x', contentType: 'application/foo' }), 'INFO');
    expect(status(pkg)).toBe(469);
    expect(pkg.message.headers.has('recv-info')).toBe(true);
    // RFC 3311 §5.2: an offer while the INVITE's is not answered for good: 500 with Retry-After; no offer: 200.
    const update = await answer(inDialog('UPDATE', 4, { body: sdp(4002) }), 'UPDATE');
    expect(status(update)).toBe(500);
    expect(update.message.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(status(await answer(inDialog('UPDATE', 5), 'UPDATE'))).toBe(200);
    expect(status(await answer(inDialog('OPTIONS', 6), 'OPTIONS'))).toBe(200);
    expect(status(await answer(inDialog('MESSAGE', 7, { body: 'hi', contentType: 'text/plain' }), 'MESSAGE'))).toBe(403);
    // The early dialog stands: the caller's BYE still ends it as before.
    expect(seen.cancels).toEqual([]);
    expect(h.server.status().earlyInvites).toBe(1);
    await sip.send(inDialog('BYE', 8), toServer());
    await sip.waitResponse(200, 'BYE');
    await sip.waitResponse(487, 'INVITE');
    await eventually(() => seen.cancels.length === 1, 10_000, 'cancel event');
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 481)).toBe(0);
  });
});
