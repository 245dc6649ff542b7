/**
 * Phones registered through a real Kamailio edge proxy (RFC 3327 Path): the
 * phone's Contact names a port where nothing listens (what a phone behind
 * NAT advertises), so a call reaches it only if the engine routes the INVITE
 * through the Path the edge added, and the edge sends it on to the address
 * the REGISTER really came from. Over UDP and TCP between phone and edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineNode, type EngineNode } from '../support/interop/engine-node.js';
import { Kamailio } from '../support/interop/kamailio.js';
import { kamailioPathScript } from '../support/interop/kamailio-path-config.js';
import { ScriptedAgent } from '../support/interop/scripted-agent.js';
import { eventually } from '../support/harness.js';
import { CallerPhone } from '../support/phones.js';
import { Registrant, statusOf } from '../support/registration.js';
import type { Transport } from '../support/sip-peer.js';
import { freePort } from '../support/sipp.js';

let node: EngineNode;
let kamailio: Kamailio;

beforeAll(async () => {
  node = await startEngineNode({
    queues: [],
    config: {
      // No wrap-up: the second test's call finds the agent ready at once.
      queues: [{ id: 'sales', name: 'Sales', numbers: ['6000'], waiting: { wrapUpSeconds: 0 } }],
      // Keep-alive rounds run by the test; one miss takes a contact out.
      registrar: { keepAlive: { intervalSeconds: 0, timeoutSeconds: 5, failures: 1 } },
      agents: [{ id: 'alice', name: 'Alice', password: 'alice-secret', startState: 'ready', queues: [{ queue: 'sales' }] }],
    },
  });
  kamailio = await Kamailio.start({ engines: [], script: kamailioPathScript({ engine: node.uri('udp'), engineTcp: node.uri('tcp') }), lifetimeSec: 240 });
}, 30_000);
afterAll(async () => {
  await kamailio?.stop();
  await node?.stop();
});

describe.each(['udp', 'tcp'] as const)('an agent phone registered through Kamailio over %s (and Kamailio to the engine over it too)', (transport: Transport) => {
  it('is called and kept alive through the edge: the INVITE Routes through the Path to the address the REGISTER came from; the BYE takes the recorded route; gone, the edge’s own answers do not keep it registered', async () => {
    const agent = await ScriptedAgent.create(transport);
    let agentClosed = false;
    const caller = await CallerPhone.create(700);
    try {
      const from = kamailio.events.all.length;
      const dead = await freePort();
      const contact = `sip:alice@127.0.0.1:${dead}${transport === 'tcp' ? ';transport=tcp' : ''}`;
      const reg = await new Registrant(agent.peer, { host: kamailio.host, port: kamailio.port }).register({ user: 'alice', password: 'alice-secret', expires: 60, contact: `<${contact}>` });
      expect(statusOf(reg), kamailio.output()).toBe(200);
      const binding = node.sb.engine.agents!.registrar!.table.list('alice')[0];
      expect(binding?.path).toHaveLength(1);
      expect(binding?.path?.[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};.*received=`));

      const call = caller.dial({ host: '127.0.0.1', port: node.udpPort }, '6000');
      await call.waitStatus(200, 15_000);
      expect(agent.calls).toHaveLength(1);
      const invite = agent.calls[0]!.invite;
      expect(invite.message.kind === 'request' && invite.message.uri).toBe(contact);
      // It came from the edge (its Via on top), which took its own Route off and record-routed the dialog.
      const viaEdge = new RegExp(`^SIP/2\\.0/${transport.toUpperCase()} 127\\.0\\.0\\.1:${kamailio.port};`);
      expect(invite.message.headers.values('via')[0]).toMatch(viaEdge);
      expect(invite.message.headers.entries('route')).toEqual([]);
      expect(invite.message.headers.entries('record-route').length).toBeGreaterThan(0);
      await eventually(() => kamailio.requests((e) => e.kind === 'path' && e.method === 'INVITE', from) === 1, 10_000, 'the INVITE through the edge');

      call.hangUp();
      const bye = await agent.waitRequest('BYE', 0);
      expect(bye.message.headers.values('via')[0]).toMatch(viaEdge);
      await eventually(() => kamailio.requests((e) => e.kind === 'in-dialog' && e.method === 'BYE', from) === 1, 10_000, 'the BYE through the edge');
      await node.idle();

      // The keep-alive goes through the edge too: the phone answers, the binding stays.
      const registrar = node.sb.engine.agents!.registrar!;
      await node.sb.engine.agents!.keepAliveRound();
      expect(registrar.table.list('alice')).toHaveLength(1);
      await eventually(() => kamailio.requests((e) => e.kind === 'path' && e.method === 'OPTIONS', from) === 1, 10_000, 'the OPTIONS through the edge');
      // The phone goes away: what the edge answers for it (a timeout, a failed connection) is a miss.
      await agent.close();
      agentClosed = true;
      await node.sb.engine.agents!.keepAliveRound();
      expect(registrar.table.list('alice')).toEqual([]);
    } finally {
      node.sb.engine.agents!.registrar!.removeAll('alice');
      if (!agentClosed) await agent.close();
      caller.close();
    }
  });
});
