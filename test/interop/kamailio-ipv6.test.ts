/**
 * Kamailio in front of the engine over IPv6 (::1 everywhere): the dispatcher
 * probes the node at a bracketed address, Kamailio's Record-Route names
 * `[::1]`, and the caller's ACK and the engine's BYE both take that route
 * (RFC 3261 §12.2.1.1; RFC 5118 for IPv6 in SIP). The caller is a raw SIP
 * peer so every header on the wire can be checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineNode, type EngineNode } from '../support/interop/engine-node.js';
import { Kamailio } from '../support/interop/kamailio.js';
import { ScriptedAgent } from '../support/interop/scripted-agent.js';
import { request, respond, sdp, SipPeer, uniq } from '../support/sip-peer.js';

describe('Kamailio in front of the engine over IPv6', () => {
  let node: EngineNode;
  let agent: ScriptedAgent;
  let kam: Kamailio;
  let caller: SipPeer;

  beforeAll(async () => {
    agent = await ScriptedAgent.create('udp', '::1');
    node = await startEngineNode({ host: '::1', queues: [{ id: 'v6', numbers: ['7000'], agents: [agent.uri()] }] });
    kam = await Kamailio.start({ host: '::1', engines: [node.uri('udp')] });
    caller = await SipPeer.create('udp', '::1');
  });

  afterAll(async () => {
    await node?.stop();
    await kam?.stop();
    await agent?.close();
    await caller?.close();
  });

  it('the node at [::1] is probed and put in rotation', async () => {
    await kam.waitForState(node.uri('udp'), 'active');
    expect(node.uri('udp')).toBe(`sip:[::1]:${node.udpPort}`);
  });

  it('a call through Kamailio: Record-Route names [::1], the ACK and the engine’s BYE follow it', async () => {
    const viaKamailio = { host: '::1', port: kam.port };
    const callId = uniq('v6k');
    const fromTag = uniq('f');
    const to = `<sip:7000@[::1]:${kam.port}>`;
    await caller.send(request({ method: 'INVITE', uri: `sip:7000@[::1]:${kam.port}`, peer: caller, callId, fromTag, body: sdp(4030).replace(/IP4 127.0.0.1/g, 'IP6 ::1') }), viaKamailio);
    const ok = await caller.waitResponse(200, 'INVITE');
    const routeSet = ok.message.headers.entries('record-route').reverse();
    expect(routeSet).toHaveLength(1);
    expect(routeSet[0]).toMatch(new RegExp(`^<sip:\\[::1\\]:${kam.port};lr`));
    const contact = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? '';
    expect(contact).toBe(`sip:[::1]:${node.udpPort}`);
    await caller.send(request({ method: 'ACK', uri: contact, peer: caller, callId, fromTag, toTag: ok.info.toTag!, to, extra: routeSet.map((r) => `Route: ${r}`) }), viaKamailio);
    await agent.waitRequest('ACK', 0);
    const callerSource = `::1:${caller.port}`;
    const engineSource = `::1:${node.udpPort}`;
    await kam.events.waitFor((e) => e.kind === 'in-dialog' && e.method === 'ACK' && e.source === callerSource, 5000, 'the caller’s ACK through Kamailio');
    await agent.hangUp(0);
    const bye = await caller.waitRequest('BYE');
    expect(bye.message.kind === 'request' && bye.message.uri).toBe(`sip:caller@[::1]:${caller.port}`);
    expect(bye.from.port).toBe(kam.port);
    await caller.send(respond(bye, 200, 'OK'), viaKamailio);
    await kam.events.waitFor((e) => e.kind === 'in-dialog' && e.method === 'BYE' && e.source === engineSource, 5000, 'the engine’s BYE through Kamailio');
    await node.idle();
  });
});
