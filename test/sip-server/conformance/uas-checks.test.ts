/**
 * What the UAS core answers by itself for valid requests it does not handle
 * (RFC 3261 §8.2), over real UDP with a scripted app on the control port:
 * 405/501 with Allow (§8.2.1, §20.5), 415 with Accept or Accept-Encoding
 * (§8.2.3), 406 (§20.1, §21.4.7), multipart bodies with an SDP part accepted
 * (RFC 5621), and none of these ever reaching the app.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ControlPeer } from '../../support/control-peer.js';
import { SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';

let h: Harness | undefined;
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await h?.stop();
});

async function setup(routes = ['invite', 'options', 'info']): Promise<{ h: Harness; sip: SipPeer; app: ControlPeer; port: number }> {
  h = await startServer();
  const sip = await SipPeer.create('udp');
  closers.push(() => sip.close());
  const app = await ControlPeer.connect(h.controlPort);
  closers.push(() => app.close());
  await app.authenticate(SECRET);
  for (const v of routes) await app.reply(app.send(`route|${v}`));
  return { h, sip, app, port: h.udp.port };
}

const appRequests = (app: ControlPeer): number => app.frames.filter((f) => f.tokens[1] === 'sip').length;

function multipart(boundary: string, parts: readonly { type: string; disposition?: string; body: string }[]): string {
  return `${parts.map((p) => `--${boundary}\r\nContent-Type: ${p.type}\r\n${p.disposition !== undefined ? `Content-Disposition: ${p.disposition}\r\n` : ''}\r\n${p.body}\r\n`).join('')}--${boundary}--\r\n`;
}

describe('method inspection (RFC 3261 §8.2.1)', () => {
  it('a known method neither configured nor routed gets 405 with Allow; an unknown one 501 with Allow', async () => {
    const { h, sip, app, port } = await setup();
    await sip.send(request({ method: 'SUBSCRIBE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, extra: ['Event: presence'] }), { port });
    const r405 = await sip.waitResponse(405, 'SUBSCRIBE');
    const allow = (r405.message.headers.get('allow') ?? '').split(/\s*,\s*/);
    expect(allow).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK']));
    expect(allow).not.toContain('SUBSCRIBE');
    await sip.send(request({ method: 'FROBNICATE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip }), { port });
    const r501 = await sip.waitResponse(501, 'FROBNICATE');
    expect(r501.message.headers.get('allow')).toBe(r405.message.headers.get('allow'));
    expect(r501.info.toTag, 'a final response carries a To tag').toBeDefined();
    expect(appRequests(app)).toBe(0);
    expect(h.server.status().refusals).toEqual({ 405: 1, 501: 1 });
  });

  it('a method an app routes is allowed (and listed in Allow); a configured one with no app gets 503', async () => {
    const { sip, app, port } = await setup(['invite', 'message']);
    await sip.send(request({ method: 'MESSAGE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: 'hi', contentType: 'text/plain' }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    expect(f.sip).toMatch(/^MESSAGE /);
    await sip.send(request({ method: 'PUBLISH', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, extra: ['Event: presence'] }), { port });
    const r = await sip.waitResponse(405, 'PUBLISH');
    expect(r.message.headers.get('allow')).toContain('MESSAGE');
    // OPTIONS is configured but this app does not route it: served, only not now (drachtio spec §2.2).
    await sip.send(request({ method: 'OPTIONS', uri: `sip:1000@127.0.0.1:${port}`, peer: sip }), { port });
    await sip.waitResponse(503, 'OPTIONS');
  });

  it('the app’s 2xx to OPTIONS and to INVITE get the Allow a 405 has and Supported (RFC 3261 §11.2, §13.3.1.4); an app’s own are kept', async () => {
    const { sip, app, port } = await setup(['invite', 'options', 'register']);
    await sip.send(request({ method: 'SUBSCRIBE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, extra: ['Event: presence'] }), { port });
    const allow405 = (await sip.waitResponse(405, 'SUBSCRIBE')).message.headers.get('allow');
    expect(allow405?.split(', ')).toEqual(['ACK', 'BYE', 'CANCEL', 'INFO', 'INVITE', 'OPTIONS', 'PRACK', 'REGISTER', 'UPDATE']);
    const answer = async (method: string, response: string, body = ''): Promise<Received> => {
      await sip.send(request({ method, uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body }), { port });
      const f = await app.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith(method));
      await app.reply(app.send(`sip|${f.tokens[8]}|`, response));
      return sip.waitResponse(200, method);
    };
    const options = await answer('OPTIONS', 'SIP/2.0 200 OK\r\nAccept: application/sdp\r\n\r\n');
    expect(options.message.headers.get('allow')).toBe(allow405);
    expect(options.message.headers.get('supported')).toBe('100rel'); // session timers are off in this server
    const invite = await answer('INVITE', `SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n${sdp(5000)}`, sdp(4000));
    expect(invite.message.headers.get('allow')).toBe(allow405);
    expect(invite.message.headers.get('supported')).toBe('100rel');
    const own = await answer('OPTIONS', 'SIP/2.0 200 OK\r\nAllow: INVITE, BYE\r\nSupported: replaces\r\n\r\n');
    expect(own.message.headers.values('allow')).toEqual(['INVITE, BYE']);
    expect(own.message.headers.values('supported')).toEqual(['replaces']);
  });

  it('methods are case-sensitive (RFC 3261 §7.1): "invite" is an unknown method, 501', async () => {
    const { sip, app, port } = await setup();
    await sip.send(request({ method: 'invite', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: sdp(4000) }), { port });
    await sip.waitResponse(501, 'invite');
    expect(appRequests(app)).toBe(0);
  });
});

describe('content processing (RFC 3261 §8.2.3, RFC 5621)', () => {
  it('an INVITE with a body of another type gets 415 with Accept', async () => {
    const { h, sip, app, port } = await setup();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: '<xml/>', contentType: 'application/xml' }), { port });
    const r = await sip.waitResponse(415, 'INVITE');
    expect(r.message.headers.get('accept')).toMatch(/^application\/sdp(, |$)/);
    expect(appRequests(app)).toBe(0);
    expect(h.server.status().refusals).toEqual({ 415: 1 });
  });

  it('a compressed body gets 415 with Accept-Encoding: identity', async () => {
    const { sip, port } = await setup();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: sdp(4000), extra: ['Content-Encoding: gzip'] }), { port });
    const r = await sip.waitResponse(415, 'INVITE');
    expect(r.message.headers.get('accept-encoding')).toBe('identity');
  });

  it('media types compare case-insensitively, with parameters: APPLICATION/SDP;charset=utf-8 reaches the app', async () => {
    const { sip, app, port } = await setup();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: sdp(4000), contentType: 'APPLICATION/SDP ; charset="utf-8"' }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    expect(f.sip).toMatch(/^INVITE /);
  });

  it('multipart/mixed with SDP and ISUP (a carrier INVITE, RFC 3204) reaches the app whole', async () => {
    const { sip, app, port } = await setup();
    const body = multipart('unique-boundary-1', [
      { type: 'application/sdp', body: sdp(4000).trimEnd() },
      { type: 'application/ISUP;version=itu-t92+;base=itu-t92+', disposition: 'signal;handling=optional', body: '\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03' },
    ]);
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body, contentType: 'multipart/mixed;boundary=unique-boundary-1', extra: ['MIME-Version: 1.0'] }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    expect(f.sip).toContain('--unique-boundary-1--');
  });

  it('multipart without a readable part, or with an unreadable part whose handling is required, gets 415', async () => {
    const { sip, app, port } = await setup();
    const noSdp = multipart('b1', [{ type: 'application/isup', body: 'x' }, { type: 'text/plain', body: 'y' }]);
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: uniq('mp1'), body: noSdp, contentType: 'multipart/mixed; boundary=b1' }), { port });
    await sip.waitResponse(415, 'INVITE');
    const required = multipart('"b 2"'.slice(1, -1), [
      { type: 'application/sdp', body: sdp(4000).trimEnd() },
      { type: 'application/isup', disposition: 'signal; handling=required', body: 'x' },
    ]);
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: uniq('mp2'), body: required, contentType: 'multipart/mixed; boundary="b 2"' }), { port });
    await sip.waitResponse(415, 'INVITE');
    expect(appRequests(app)).toBe(0);
  });

  it('a body without Content-Type gets 400 (RFC 3261 §7.4.1), unless it is recognisably SDP', async () => {
    const { sip, app, port } = await setup();
    const bare = (body: string, callId: string): string => request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId, body }).replace(/Content-Type: [^\r]*\r\n/, '');
    await sip.send(bare('hello', uniq('ct1')), { port });
    const r = await sip.waitResponse(400, 'INVITE');
    expect(r.message.kind === 'response' && r.message.reason).toContain('Content-Type');
    await sip.send(bare(sdp(4000), uniq('ct2')), { port });
    await app.wait((x) => x.tokens[1] === 'sip');
  });

  it('methods without configured body types take any body (a MESSAGE with text/plain reaches the app)', async () => {
    const { sip, app, port } = await setup(['invite', 'message']);
    await sip.send(request({ method: 'MESSAGE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: 'Signal=5\r\nDuration=160\r\n', contentType: 'text/plain' }), { port });
    await app.wait((x) => x.tokens[1] === 'sip');
  });
});

describe('Accept (RFC 3261 §20.1, §21.4.7)', () => {
  it('an INVITE whose Accept excludes application/sdp gets 406; */*, application/* and no Accept pass', async () => {
    const { sip, app, port } = await setup();
    const invite = (accept: string | undefined): string =>
      request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, body: sdp(4000), callId: uniq('acc'), extra: accept === undefined ? [] : [`Accept: ${accept}`] });
    for (const refused of ['text/html', 'application/sdp;q=0, text/plain', 'application/*;q=0', '']) {
      await sip.send(invite(refused), { port });
      const r = await sip.waitResponse(406, 'INVITE');
      expect(r.message.headers.get('accept')).toBe('application/sdp');
    }
    expect(appRequests(app)).toBe(0);
    for (const ok of ['text/html, */*;q=0.1', 'application/*', 'Application/SDP', undefined]) await sip.send(invite(ok), { port });
    for (let i = 0; i < 4; i++) await app.wait((x) => x.tokens[1] === 'sip');
  });
});

describe('the answer to a request refused as malformed (RFC 3261 §18.2.2)', () => {
  it('goes to the Via sent-by port when the Via has no rport, and copies of the request get the same To tag', async () => {
    const { sip, port } = await setup();
    const replies = await SipPeer.create('udp'); // the sent-by the Via names: not the socket the request leaves from
    closers.push(() => replies.close());
    const callId = uniq('bad');
    const text = [
      `INVITE sip:1000@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${replies.port};branch=z9hG4bK${uniq('b')}`,
      'Max-Forwards: seventy',
      `From: <sip:caller@127.0.0.1>;tag=${uniq('f')}`,
      `To: <sip:1000@127.0.0.1:${port}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await sip.send(text, { port });
    const first = await replies.waitResponse(400, 'INVITE');
    expect(first.message.kind === 'response' && first.message.reason).toMatch(/Max-Forwards/i);
    await sip.send(text, { port });
    const again = await replies.wait((r) => r !== first && r.message.kind === 'response' && r.message.status === 400);
    expect(first.info.toTag).toBeDefined();
    expect(again.info.toTag).toBe(first.info.toTag);
    expect(sip.count((r) => r.message.kind === 'response')).toBe(0);
  });
});
