/**
 * drachtio wire-protocol conformance, control channel (spec §3 items 1–7),
 * with a scripted peer for exact frames and the unmodified drachtio-srf.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlPeer } from '../../support/control-peer.js';
import { connectApp, disconnectApp, eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, SipPeer } from '../../support/sip-peer.js';

let h: Harness;
const peers: ControlPeer[] = [];

beforeEach(async () => {
  h = await startServer();
});
afterEach(async () => {
  peers.splice(0).forEach((p) => p.close());
  await h.stop();
});

async function peer(): Promise<ControlPeer> {
  const p = await ControlPeer.connect(h.controlPort);
  peers.push(p);
  return p;
}

describe('control channel (spec §3 items 1–7)', () => {
  it('item 1: several app connections are accepted at once on the configured port', async () => {
    const a = await peer();
    const b = await peer();
    const c = await peer();
    for (const p of [a, b, c]) expect((await p.authenticate(SECRET)).tokens[3]).toBe('OK');
    expect(h.server.status().appConnections).toBe(3);
  });

  it('item 2: frames are parsed by UTF-8 byte length across split and merged reads', async () => {
    const p = await peer();
    await p.authenticate(SECRET);
    // Two frames in one write, the second split inside its length digits and inside a multi-byte character.
    const f1 = 'id-1|ping';
    const f2 = 'id-2|route|invite';
    const f3 = 'id-3|ping|Ünïcødé ✓';
    const all = Buffer.from(`${Buffer.byteLength(f1)}#${f1}${Buffer.byteLength(f2)}#${f2}${Buffer.byteLength(f3)}#${f3}`, 'utf8');
    const cut1 = all.indexOf('#', all.indexOf('id-2')) - 1; // inside the third frame's length digits
    const cut2 = all.length - 3; // inside the ✓
    p.writeRaw(all.subarray(0, cut1));
    await new Promise((r) => setTimeout(r, 20));
    p.writeRaw(all.subarray(cut1, cut2));
    await new Promise((r) => setTimeout(r, 20));
    p.writeRaw(all.subarray(cut2));
    expect((await p.reply('id-1')).tokens.slice(3)).toEqual(['OK', 'pong']);
    expect((await p.reply('id-2')).tokens.slice(3)).toEqual(['OK']);
    expect((await p.reply('id-3')).tokens.slice(3)).toEqual(['OK', 'pong']);
  });

  it('item 2: a malformed length prefix closes the connection', async () => {
    const p = await peer();
    await p.authenticate(SECRET);
    p.writeRaw('12x#id|ping');
    await p.waitClosed();
    expect(p.closed).toBe(true);
  });

  it('item 3: authenticate with the right secret answers OK|hostports|vX.Y.Z|localHostports with X.Y.Z >= 0.8.2', async () => {
    const p = await peer();
    const r = await p.authenticate(SECRET);
    expect(r.tokens[3]).toBe('OK');
    expect(r.tokens[4]).toBe(`udp/127.0.0.1:${h.udp.port},tcp/127.0.0.1:${h.tcp.port}`);
    const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(r.tokens[5] ?? '');
    expect(m).not.toBeNull();
    const [maj, min, pat] = m!.slice(1).map(Number) as [number, number, number];
    expect(maj * 1e6 + min * 1e3 + pat).toBeGreaterThanOrEqual(8002);
    expect(r.tokens[6]).toBe(`udp/127.0.0.1:${h.udp.port},tcp/127.0.0.1:${h.tcp.port}`);
  });

  it('item 3: a wrong secret gets NOK|incorrect secret and the connection is closed', async () => {
    const p = await peer();
    const r = await p.authenticate('wrong');
    expect(r.tokens.slice(3)).toEqual(['NOK', 'incorrect secret']);
    await p.waitClosed();
  });

  it('item 3: before authentication every other command is refused and the connection closed', async () => {
    const p = await peer();
    const id = p.send('route|invite');
    expect((await p.reply(id)).tokens[3]).toBe('NOK');
    await p.waitClosed();
  });

  it('item 4: route/remove_route answer OK; the verb table is per connection and goes with it', async () => {
    const sip = await SipPeer.create('udp');
    try {
      const p = await peer();
      await p.authenticate(SECRET);
      expect((await p.reply(p.send('route|options'))).tokens[3]).toBe('OK');
      await sip.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip }), { port: h.udp.port });
      const f = await p.wait((x) => x.tokens[1] === 'sip');
      expect(f.sip).toMatch(/^OPTIONS /);
      expect((await p.reply(p.send('remove_route|options'))).tokens[3]).toBe('OK');
      await sip.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip }), { port: h.udp.port });
      expect((await sip.waitResponse(503, 'OPTIONS')).message.kind).toBe('response');
      // a route of a connection that closes is forgotten
      const q = await peer();
      await q.authenticate(SECRET);
      await q.reply(q.send('route|options'));
      q.close();
      await eventually(() => !h.server.appRoutes().some((c) => c.routes.includes('options')), 10_000, 'the closed connection forgotten');
      await sip.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip }), { port: h.udp.port });
      await sip.waitResponse(503, 'OPTIONS');
    } finally {
      await sip.close();
    }
  });

  it('item 5: ping answers OK|pong', async () => {
    const p = await peer();
    await p.authenticate(SECRET);
    expect((await p.reply(p.send('ping'))).tokens.slice(3)).toEqual(['OK', 'pong']);
  });

  it('item 6: every sip frame has at least 11 tokens (dialog-id slot and trailing |)', async () => {
    const sip = await SipPeer.create('udp');
    try {
      const p = await peer();
      await p.authenticate(SECRET);
      await p.reply(p.send('route|options'));
      await sip.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip }), { port: h.udp.port });
      const f = await p.wait((x) => x.tokens[1] === 'sip');
      expect(f.tokens.length).toBeGreaterThanOrEqual(11);
      expect(f.tokens[f.tokens.length - 1]).toBe('');
      expect(f.tokens.slice(2, 5)).toEqual(['network', String(Buffer.byteLength(f.sip!)), 'udp']);
      expect(f.tokens[5]).toBe('127.0.0.1');
      expect(f.tokens[6]).toBe(String(sip.port));
      expect(f.tokens[7]).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
      expect(f.tokens[8]).toMatch(/^[0-9a-f-]{36}$/);
      expect(f.tokens[9]).toBe('');
      expect(f.tokens.slice(10, 12)).toEqual(['127.0.0.1', String(h.udp.port)]);
      for (const x of p.frames) expect(['response', 'sip', 'cdr:attempt', 'cdr:start', 'cdr:stop']).toContain(x.tokens[1]);
    } finally {
      await sip.close();
    }
  });

  it('item 7: an unknown command gets NOK and the connection keeps working', async () => {
    const p = await peer();
    await p.authenticate(SECRET);
    expect((await p.reply(p.send('frobnicate|x'))).tokens[3]).toBe('NOK');
    expect((await p.reply(p.send('ping'))).tokens.slice(3)).toEqual(['OK', 'pong']);
  });

  it('drachtio-srf connects unchanged and its routes take effect', async () => {
    const srf = await connectApp(h, (s) => s.use('options', (_req, res) => res.send(200, { headers: { 'X-App': 'yes' } })));
    const sip = await SipPeer.create('udp');
    try {
      await sip.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip }), { port: h.udp.port });
      const r = await sip.waitResponse(200, 'OPTIONS');
      expect(r.message.headers.get('x-app')).toBe('yes');
      expect(r.info.toTag).toBeDefined();
    } finally {
      disconnectApp(srf);
      await sip.close();
    }
  });
});
