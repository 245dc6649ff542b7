/**
 * What real carriers and proxies send, through the whole engine (caller →
 * embedded server → engine → agent), each case a focused call with every
 * message checked on the wire: compact header forms (RFC 3261 §7.3.3),
 * several Vias (§8.2.6.2), Record-Route with `lr` / `lr=on` (§12.1.1,
 * §12.2.1.1), a preloaded Route (§8.1.2), 100rel and session timers only in
 * Supported (RFC 3262, RFC 4028) or required (§8.2.2.3), a delayed offer
 * (RFC 3264 §5 / RFC 3261 §13.2.1), a large SDP, IPv6, and a queue whose
 * agents are all busy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEngineNode, type EngineNode } from '../support/interop/engine-node.js';
import { ScriptedAgent } from '../support/interop/scripted-agent.js';
import { eventually } from '../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../support/sip-peer.js';

/** A caller-side dialog as the peer saw it from the 200. */
interface Answered {
  readonly ok: Received;
  readonly callId: string;
  readonly fromTag: string;
  readonly toTag: string;
  readonly target: string;
}

/** An SDP offer of about `bytes` bytes: a long codec list and many attributes, as some SBCs send. */
function largeSdp(bytes: number): string {
  const lines = ['v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 8 18 101', 'a=rtpmap:0 PCMU/8000'];
  for (let i = 0; lines.join('\r\n').length < bytes; i++) lines.push(`a=x-carrier-attribute-${i}:${'z'.repeat(60)}`);
  return `${lines.join('\r\n')}\r\n`;
}

describe('carrier and proxy traffic through the engine', () => {
  let node: EngineNode;
  let agent: ScriptedAgent;
  let busy1: ScriptedAgent;
  let busy2: ScriptedAgent;
  let caller: SipPeer;

  beforeAll(async () => {
    [agent, busy1, busy2] = await Promise.all([ScriptedAgent.create(), ScriptedAgent.create(), ScriptedAgent.create()]);
    busy1.behaviour = 'busy';
    busy2.behaviour = 'busy';
    node = await startEngineNode({
      queues: [
        { id: 'agent', numbers: ['5000'], agents: [agent.uri()] },
        { id: 'all-busy', numbers: ['5001'], agents: [busy1.uri(), busy2.uri()] },
      ],
    });
  });

  afterEach(async () => {
    await caller?.close();
  });

  afterAll(async () => {
    await node?.stop();
    await Promise.all([agent?.close(), busy1?.close(), busy2?.close()]);
  });

  const engine = (): { port: number } => ({ port: node.udpPort });

  /** Sends the INVITE, waits for the 200 and ACKs it (to the Contact, through `routes` when given). */
  async function answer(invite: string, callId: string, fromTag: string, routes: readonly string[] = [], ackBody = ''): Promise<Answered> {
    await caller.send(invite, engine());
    const ok = await caller.waitResponse(200, 'INVITE');
    const contact = ok.message.headers.get('contact') ?? '';
    const target = /<([^>]+)>/.exec(contact)?.[1] ?? contact;
    const toTag = ok.info.toTag!;
    await caller.send(
      request({ method: 'ACK', uri: target, peer: caller, callId, fromTag, toTag, to: `<sip:5000@127.0.0.1:${node.udpPort}>`, extra: routes.map((r) => `Route: ${r}`), body: ackBody }),
      engine(),
    );
    return { ok, callId, fromTag, toTag, target };
  }

  async function byeFromCaller(a: Answered): Promise<void> {
    await caller.send(request({ method: 'BYE', uri: a.target, peer: caller, callId: a.callId, fromTag: a.fromTag, toTag: a.toTag, cseq: 2, to: `<sip:5000@127.0.0.1:${node.udpPort}>` }), engine());
    await caller.waitResponse(200, 'BYE');
  }

  it('a queue whose agents are all busy: the caller gets 480 once both were tried', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('busy');
    await caller.send(request({ method: 'INVITE', uri: `sip:5001@127.0.0.1:${node.udpPort}`, peer: caller, callId, body: sdp(4000) }), engine());
    const final = await caller.wait((r) => r.message.kind === 'response' && r.message.status >= 300, 10_000, 'a final response');
    expect(final.message.kind === 'response' && final.message.status).toBe(480);
    expect(busy1.peer.count((r) => r.message.kind === 'request' && r.message.method === 'INVITE')).toBe(1);
    expect(busy2.peer.count((r) => r.message.kind === 'request' && r.message.method === 'INVITE')).toBe(1);
    await node.idle();
  });

  it('compact header forms (v, f, t, i, m, l, c, k) on every request of the call', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('compact');
    const fromTag = uniq('f');
    const body = sdp(4002);
    const invite = [
      `INVITE sip:5000@127.0.0.1:${node.udpPort} SIP/2.0`,
      `v: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${uniq('b')};rport`,
      'Max-Forwards: 70',
      `f: <sip:+15550111@127.0.0.1:${caller.port}>;tag=${fromTag}`,
      `t: <sip:5000@127.0.0.1:${node.udpPort}>`,
      `i: ${callId}`,
      'CSeq: 1 INVITE',
      `m: <sip:+15550111@127.0.0.1:${caller.port}>`,
      'k: timer',
      'c: application/sdp',
      `l: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    const calls = agent.calls.length;
    await caller.send(invite, engine());
    const ok = await caller.waitResponse(200, 'INVITE');
    expect(agent.calls.length).toBe(calls + 1);
    expect(agent.calls[calls]!.invite.message.body.toString()).toBe(body);
    const toTag = ok.info.toTag!;
    const target = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? '';
    const inDialog = (method: string, cseq: number): string =>
      [
        `${method} ${target} SIP/2.0`,
        `v: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${uniq('b')};rport`,
        'Max-Forwards: 70',
        `f: <sip:+15550111@127.0.0.1:${caller.port}>;tag=${fromTag}`,
        `t: <sip:5000@127.0.0.1:${node.udpPort}>;tag=${toTag}`,
        `i: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        'l: 0',
        '',
        '',
      ].join('\r\n');
    await caller.send(inDialog('ACK', 1), engine());
    await caller.send(inDialog('BYE', 2), engine());
    await caller.waitResponse(200, 'BYE');
    await agent.waitRequest('BYE', calls);
    await node.idle();
  });

  it('several Vias (two header fields, one comma-joined): every response carries them all, in order', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('vias');
    const fromTag = uniq('f');
    const lower = ['SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsbc1;received=192.0.2.10', 'SIP/2.0/TCP [2001:db8::7]:5061;branch=z9hG4bKpbx2'];
    const invite = request({ method: 'INVITE', uri: `sip:5000@127.0.0.1:${node.udpPort}`, peer: caller, callId, fromTag, body: sdp(4004) }).replace(
      /^(Via: .*)$/m,
      `$1\r\nVia: ${lower[0]}, ${lower[1]}`,
    );
    const a = await answer(invite, callId, fromTag);
    const ringing = await caller.waitResponse(180, 'INVITE');
    for (const r of [ringing, a.ok]) {
      const vias = r.message.headers.entries('via');
      expect(vias).toHaveLength(3);
      expect(vias.slice(1)).toEqual(lower);
      expect(vias[0]).toMatch(new RegExp(`^SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK`));
    }
    await byeFromCaller(a);
    await node.idle();
  });

  it('Record-Route with lr and lr=on: the 200 carries them; the engine’s BYE (agent hangs up) follows them as Route', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('rr');
    const fromTag = uniq('f');
    const routeSet = [`<sip:127.0.0.1:${caller.port};lr=on;ftag=${fromTag}>`, '<sip:core.carrier.invalid;transport=tcp;lr>'];
    const invite = request({ method: 'INVITE', uri: `sip:5000@127.0.0.1:${node.udpPort}`, peer: caller, callId, fromTag, body: sdp(4006), extra: routeSet.map((r) => `Record-Route: ${r}`) });
    const calls = agent.calls.length;
    const a = await answer(invite, callId, fromTag);
    expect(a.ok.message.headers.entries('record-route')).toEqual(routeSet);
    await agent.waitRequest('ACK', calls);
    await agent.hangUp(calls);
    const bye = await caller.waitRequest('BYE');
    expect(bye.message.headers.entries('route')).toEqual(routeSet);
    expect(bye.message.kind === 'request' && bye.message.uri).toBe(`sip:caller@127.0.0.1:${caller.port}`);
    await caller.send(
      ['SIP/2.0 200 OK', ...bye.message.headers.values('via').map((v) => `Via: ${v}`), `From: ${bye.message.headers.get('from')}`, `To: ${bye.message.headers.get('to')}`, `Call-ID: ${callId}`, `CSeq: ${bye.message.headers.get('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'),
      engine(),
    );
    await node.idle();
  });

  it('a preloaded Route naming the engine (an outbound-proxy setting on the carrier side): the call connects', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('preload');
    const fromTag = uniq('f');
    const invite = request({
      method: 'INVITE',
      uri: `sip:5000@127.0.0.1:${node.udpPort}`,
      peer: caller,
      callId,
      fromTag,
      body: sdp(4008),
      extra: [`Route: <sip:127.0.0.1:${node.udpPort};lr>`],
    });
    const a = await answer(invite, callId, fromTag);
    expect(a.ok.message.kind === 'response' && a.ok.message.status).toBe(200);
    await byeFromCaller(a);
    await node.idle();
  });

  it('100rel and timer only in Supported (with Session-Expires): the call connects with unreliable provisionals', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('supported');
    const fromTag = uniq('f');
    const invite = request({
      method: 'INVITE',
      uri: `sip:5000@127.0.0.1:${node.udpPort}`,
      peer: caller,
      callId,
      fromTag,
      body: sdp(4010),
      extra: ['Supported: 100rel, timer, replaces', 'Session-Expires: 1800;refresher=uac', 'Min-SE: 90', 'Allow: INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS'],
    });
    const a = await answer(invite, callId, fromTag);
    const ringing = await caller.waitResponse(180, 'INVITE');
    for (const r of [ringing, a.ok]) {
      expect(r.message.headers.entries('require')).not.toContain('100rel');
      expect(r.message.headers.has('rseq')).toBe(false);
    }
    await byeFromCaller(a);
    await node.idle();
  });

  it('Require: 100rel: the ringing goes to the caller reliably (RSeq), the caller PRACKs it, and the call connects', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('rel');
    const fromTag = uniq('f');
    const to = `<sip:5000@127.0.0.1:${node.udpPort}>`;
    await caller.send(request({ method: 'INVITE', uri: `sip:5000@127.0.0.1:${node.udpPort}`, peer: caller, callId, fromTag, body: sdp(4012), extra: ['Require: 100rel', 'Supported: timer'] }), engine());
    const ringing = await caller.waitResponse(180, 'INVITE');
    expect(ringing.message.headers.entries('require')).toContain('100rel');
    const rseq = ringing.message.headers.get('rseq') ?? '';
    expect(rseq).toMatch(/^\d+$/);
    const target = /<([^>]+)>/.exec(ringing.message.headers.get('contact') ?? '')?.[1] ?? '';
    const toTag = ringing.info.toTag!;
    await caller.send(request({ method: 'PRACK', uri: target, peer: caller, callId, fromTag, toTag, cseq: 2, to, extra: [`RAck: ${rseq} 1 INVITE`] }), engine());
    await caller.waitResponse(200, 'PRACK');
    const ok = await caller.waitResponse(200, 'INVITE');
    expect(ok.info.toTag).toBe(toTag);
    await caller.send(request({ method: 'ACK', uri: target, peer: caller, callId, fromTag, toTag, to }), engine());
    await caller.send(request({ method: 'BYE', uri: target, peer: caller, callId, fromTag, toTag, cseq: 3, to }), engine());
    await caller.waitResponse(200, 'BYE');
    await node.idle();
  });

  it('a delayed offer (INVITE without SDP): the agent’s offer reaches the caller and the caller’s answer in the ACK reaches the agent', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('late');
    const fromTag = uniq('f');
    const calls = agent.calls.length;
    const callerAnswer = sdp(4014, 'sendrecv', 2);
    const a = await answer(request({ method: 'INVITE', uri: `sip:5000@127.0.0.1:${node.udpPort}`, peer: caller, callId, fromTag }), callId, fromTag, [], callerAnswer);
    expect(agent.calls[calls]!.invite.message.body.length).toBe(0);
    expect(a.ok.message.body.toString()).toBe(agent.answerSdp);
    const ack = await agent.waitRequest('ACK', calls);
    expect(ack.message.body.toString()).toBe(callerAnswer);
    await byeFromCaller(a);
    await node.idle();
  });

  it('mid-call session refresh (RFC 4028): a re-INVITE without SDP gets the SDP the caller already has, the agent is not disturbed; an ACK with new media reaches the agent; UPDATE and OPTIONS get 200', async () => {
    caller = await SipPeer.create('udp');
    const callId = uniq('refresh');
    const fromTag = uniq('f');
    const calls = agent.calls.length;
    const a = await answer(request({ method: 'INVITE', uri: `sip:5000@127.0.0.1:${node.udpPort}`, peer: caller, callId, fromTag, body: sdp(4016), extra: ['Supported: timer', 'Session-Expires: 90;refresher=uac'] }), callId, fromTag);
    await agent.waitRequest('ACK', calls);
    const inDialog = (method: string, cseq: number, body = ''): string =>
      request({ method, uri: a.target, peer: caller, callId, fromTag, toTag: a.toTag, cseq, to: `<sip:5000@127.0.0.1:${node.udpPort}>`, body, extra: ['Session-Expires: 90;refresher=uac'] });
    // re-INVITE without an offer: the 200 must carry one (RFC 3261 §14.2): the session as it stands.
    await caller.send(inDialog('INVITE', 2), engine());
    const reOk = await caller.waitResponse(200, 'INVITE');
    expect(reOk.info.cseq).toBe(2);
    expect(reOk.message.body.toString()).toBe(agent.answerSdp);
    // The caller's answer keeps its media: nothing reaches the agent.
    await caller.send(inDialog('ACK', 2, sdp(4016, 'sendrecv', 2)), engine());
    expect(await agent.peer.quiet((r) => r.info.callId === agent.calls[calls]!.invite.info.callId && r.message.kind === 'request' && r.message.method === 'INVITE', 300)).toEqual([]);
    // Again, and this time the caller's answer moves its media: the agent is re-offered it.
    await caller.send(inDialog('INVITE', 3), engine());
    await caller.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseq === 3, 5000, '200 to the second re-INVITE');
    const moved = sdp(4116, 'sendrecv', 3);
    await caller.send(inDialog('ACK', 3, moved), engine());
    const reInvite = await agent.waitRequest('INVITE', calls);
    expect(reInvite.message.body.toString()).toBe(moved);
    await caller.send(inDialog('UPDATE', 4), engine());
    const upd = await caller.waitResponse(200, 'UPDATE');
    expect(upd.message.body.length).toBe(0);
    await caller.send(inDialog('OPTIONS', 5), engine());
    await caller.waitResponse(200, 'OPTIONS');
    await caller.send(inDialog('BYE', 6), engine());
    await caller.waitResponse(200, 'BYE');
    await agent.waitRequest('BYE', calls);
    await node.idle();
  });

  it('callers that hang up the instant they are answered (BYE right behind the ACK): every agent leg is hung up too', async () => {
    // The engine reads its control socket late (a busy app), so the confirmation of its 200 and the
    // caller's BYE reach drachtio-srf in one read, before the engine has bridged the legs.
    const busyNode = await startEngineNode({ lateReadMs: 30, queues: [{ id: 'quick', numbers: ['5002'], agents: [agent.uri()] }] });
    try {
      caller = await SipPeer.create('udp');
      const to = { port: busyNode.udpPort };
      const calls = 20;
      const firstAgentCall = agent.calls.length;
      caller.onMessage = (r) => {
        if (r.message.kind !== 'response' || r.message.status !== 200 || r.info.cseqMethod !== 'INVITE') return;
        const target = /<([^>]+)>/.exec(r.message.headers.get('contact') ?? '')?.[1] ?? '';
        const dialog = { uri: target, peer: caller, callId: r.info.callId, fromTag: r.info.fromTag!, toTag: r.info.toTag!, to: `<sip:5002@127.0.0.1:${busyNode.udpPort}>` };
        void caller.send(request({ method: 'ACK', ...dialog }), to);
        void caller.send(request({ method: 'BYE', cseq: 2, ...dialog }), to);
      };
      for (let i = 0; i < calls; i++) {
        await caller.send(request({ method: 'INVITE', uri: `sip:5002@127.0.0.1:${busyNode.udpPort}`, peer: caller, callId: uniq('quick'), body: sdp(4018) }), to);
      }
      /** Agent legs of these calls that got a BYE. */
      const byes = (): number => {
        const legs = new Set(agent.calls.slice(firstAgentCall).map((c) => c.invite.info.callId));
        return new Set(agent.peer.received.filter((r) => r.message.kind === 'request' && r.message.method === 'BYE' && legs.has(r.info.callId)).map((r) => r.info.callId)).size;
      };
      await eventually(() => busyNode.connected() === calls, 10_000, 'every call to connect');
      const end = Date.now() + 5000;
      while (Date.now() < end && (byes() < calls || busyNode.sb.engine.status().liveCalls > 0)) await new Promise((r) => setTimeout(r, 20));
      expect(byes()).toBe(calls);
      expect(busyNode.sb.engine.status().liveCalls).toBe(0);
      await busyNode.idle();
    } finally {
      await busyNode.stop();
    }
  });

  it('a caller that puts the call on hold the instant it is answered (re-INVITE right behind the ACK): the hold reaches the agent', async () => {
    // As above: the re-INVITE reaches drachtio-srf in the same read as the confirmation of the 200.
    const busyNode = await startEngineNode({ lateReadMs: 30, queues: [{ id: 'quick-hold', numbers: ['5003'], agents: [agent.uri()] }] });
    const saved = agent.answerSdp;
    try {
      caller = await SipPeer.create('udp');
      const to = { port: busyNode.udpPort };
      const callId = uniq('hold');
      const fromTag = uniq('f');
      const calls = agent.calls.length;
      agent.answerSdp = sdp(7002, 'recvonly');
      caller.onMessage = (r) => {
        // A failed run ends the call from the engine's side: answer its BYE so teardown stays quick.
        if (r.message.kind === 'request' && r.message.method === 'BYE') void caller.send(respond(r, 200, 'OK'), to);
        if (r.message.kind !== 'response' || r.message.status !== 200 || r.info.cseqMethod !== 'INVITE' || r.info.cseq !== 1) return;
        const target = /<([^>]+)>/.exec(r.message.headers.get('contact') ?? '')?.[1] ?? '';
        const dialog = { uri: target, peer: caller, callId, fromTag, toTag: r.info.toTag!, to: `<sip:5003@127.0.0.1:${busyNode.udpPort}>` };
        void caller.send(request({ method: 'ACK', ...dialog }), to);
        void caller.send(request({ method: 'INVITE', cseq: 2, body: sdp(4022, 'sendonly', 2), ...dialog }), to);
      };
      await caller.send(request({ method: 'INVITE', uri: `sip:5003@127.0.0.1:${busyNode.udpPort}`, peer: caller, callId, fromTag, body: sdp(4022) }), to);
      const held = await caller.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseq === 2, 5000, 'the 200 to the re-INVITE');
      const reInvite = await agent.waitRequest('INVITE', calls);
      expect(reInvite.message.body.toString()).toContain('a=sendonly');
      expect(held.message.body.toString()).toContain('a=recvonly');
      const dialog = { uri: /<([^>]+)>/.exec(held.message.headers.get('contact') ?? '')?.[1] ?? '', peer: caller, callId, fromTag, toTag: held.info.toTag!, to: `<sip:5003@127.0.0.1:${busyNode.udpPort}>` };
      await caller.send(request({ method: 'ACK', cseq: 2, ...dialog }), to);
      await caller.send(request({ method: 'BYE', cseq: 3, ...dialog }), to);
      await caller.waitResponse(200, 'BYE');
      await busyNode.idle();
    } finally {
      agent.answerSdp = saved;
      await busyNode.stop();
    }
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`a large SDP (about 8 KB) over ${transport.toUpperCase()} passes through byte for byte, both ways`, async () => {
      caller = await SipPeer.create(transport);
      const to = { port: transport === 'udp' ? node.udpPort : node.tcpPort };
      const callId = uniq('big');
      const fromTag = uniq('f');
      const offer = largeSdp(8000);
      const calls = agent.calls.length;
      const saved = agent.answerSdp;
      agent.answerSdp = largeSdp(6000).replace('o=carrier', 'o=agent');
      try {
        await caller.send(request({ method: 'INVITE', uri: `sip:5000@127.0.0.1:${to.port}${transport === 'tcp' ? ';transport=tcp' : ''}`, peer: caller, callId, fromTag, body: offer }), to);
        const ok = await caller.waitResponse(200, 'INVITE');
        expect(agent.calls[calls]!.invite.message.body.toString()).toBe(offer);
        expect(ok.message.body.toString()).toBe(agent.answerSdp);
        expect(Number(ok.message.headers.get('content-length'))).toBe(Buffer.byteLength(agent.answerSdp));
        const target = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? '';
        await caller.send(request({ method: 'ACK', uri: target, peer: caller, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:5000@127.0.0.1:${to.port}>` }), to);
        await caller.send(request({ method: 'BYE', uri: target, peer: caller, callId, fromTag, toTag: ok.info.toTag!, cseq: 2, to: `<sip:5000@127.0.0.1:${to.port}>` }), to);
        await caller.waitResponse(200, 'BYE');
      } finally {
        agent.answerSdp = saved;
      }
      await node.idle();
    });
  }
});

describe('carrier traffic over IPv6', () => {
  let node6: EngineNode;
  let agent6: ScriptedAgent;
  let caller6: SipPeer;

  beforeAll(async () => {
    agent6 = await ScriptedAgent.create('udp', '::1');
    node6 = await startEngineNode({ host: '::1', queues: [{ id: 'v6', numbers: ['6000'], agents: [agent6.uri()] }] });
    caller6 = await SipPeer.create('udp', '::1');
  });

  afterAll(async () => {
    await node6?.stop();
    await agent6?.close();
    await caller6?.close();
  });

  it('a call from [::1] to an agent at [::1]: bracketed addresses in Via, Contact and Request-URI all the way', async () => {
    const callId = uniq('v6');
    const fromTag = uniq('f');
    const to = { host: '::1', port: node6.udpPort };
    await caller6.send(request({ method: 'INVITE', uri: `sip:6000@[::1]:${node6.udpPort}`, peer: caller6, callId, fromTag, body: sdp(4020).replace(/IP4 127.0.0.1/g, 'IP6 ::1') }), to);
    const ok = await caller6.waitResponse(200, 'INVITE');
    const contact = ok.message.headers.get('contact') ?? '';
    expect(contact).toContain(`[::1]:${node6.udpPort}`);
    const inv = agent6.calls[0]!.invite;
    expect(inv.message.kind === 'request' && inv.message.uri).toBe(agent6.uri());
    expect(inv.message.headers.entries('via')[0]).toMatch(new RegExp(`^SIP/2.0/UDP \\[::1\\]:${node6.udpPort};`));
    const target = /<([^>]+)>/.exec(contact)?.[1] ?? '';
    await caller6.send(request({ method: 'ACK', uri: target, peer: caller6, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:6000@[::1]:${node6.udpPort}>` }), to);
    await agent6.waitRequest('ACK', 0);
    await agent6.hangUp(0);
    const bye = await caller6.waitRequest('BYE');
    expect(bye.message.kind === 'request' && bye.message.uri).toBe(`sip:caller@[::1]:${caller6.port}`);
    await caller6.send(
      ['SIP/2.0 200 OK', ...bye.message.headers.values('via').map((v) => `Via: ${v}`), `From: ${bye.message.headers.get('from')}`, `To: ${bye.message.headers.get('to')}`, `Call-ID: ${callId}`, `CSeq: ${bye.message.headers.get('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'),
      to,
    );
    await node6.idle();
  });
});
