/**
 * A browser phone (SIP.js over WebSocket, its Contact on a `.invalid` host
 * that only its connection reaches) registers with the engine's registrar,
 * answering the digest challenge, and the queue's calls reach it over the
 * connection it registered on (drachtio spec §2.9); its un-REGISTER, which
 * reuses the nonce count of its REGISTER (a replay), is challenged again
 * with stale=true, answered, and takes it out.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { Registrant } from '../support/registration.js';
import { SipPeer } from '../support/sip-peer.js';
import { SipJsPhone } from '../support/sipjs-phone.js';

let cc: ContactCenter;
let bob: AgentPhone;
beforeAll(async () => {
  bob = await AgentPhone.create(1300);
  cc = await startContactCenter(
    {
      sipServer: {
        listen: [
          { transport: 'udp', host: '127.0.0.1', port: 0 },
          { transport: 'tcp', host: '127.0.0.1', port: 0 },
          { transport: 'ws', host: '127.0.0.1', port: 0 },
        ],
      },
      // SIP.js 0.21 gives up on a 401 that also offers SHA-256: MD5 alone (the default).
      registrar: { keepAlive: { intervalSeconds: 0 } },
      agents: [
        { id: 'alice', name: 'Alice', password: 'alice-secret', startState: 'ready', queues: [{ queue: 'sales' }] },
        { id: 'carol', name: 'Carol', password: 'carol-secret', queues: [{ queue: 'sales' }] },
        // A static phone, made ready only when a test needs the next agent.
        { id: 'bob', name: 'Bob', device: bob.uri('bob'), queues: [{ queue: 'sales' }] },
      ],
      queues: [{ id: 'sales', name: 'Sales', numbers: ['6000'], waiting: { maxWaitSeconds: 5, wrapUpSeconds: 0 } }],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  bob?.close();
});

it('SIP.js over WebSocket registers with digest authentication and takes the queue\'s call over its connection', async () => {
  const ws = cc.sb.sipListeners.find((l) => l.transport === 'ws')!;
  const phone = await SipJsPhone.start({ server: `ws://127.0.0.1:${ws.port}`, aor: 'sip:alice@127.0.0.1', autoAnswer: true, auth: { username: 'alice', password: 'alice-secret' } });
  const caller = await CallerPhone.create(700);
  try {
    await phone.register();
    const agents = cc.sb.engine.agents!.agents;
    expect(agents.get('alice')).toMatchObject({ state: 'ready', contacts: [{ contact: phone.contact, source: expect.stringMatching(/^tcp:127\.0\.0\.1:/) }] });
    expect(phone.contact).toMatch(/\.invalid;transport=ws$/);
    const call = caller.dial(cc.udp, '6000');
    await call.waitStatus(200, 10_000);
    expect(phone.incoming).toHaveLength(1);
    call.hangUp();
    expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'alice' });
    await phone.unregister();
    await eventually(() => agents.get('alice').contacts.length === 0, 10_000, 'alice unregistered');
    expect(agents.get('alice')).toMatchObject({ state: 'not-ready', reason: 'unreachable' });
  } finally {
    caller.close();
    await phone.stop();
  }
});

it.each(['tcp', 'ws'] as const)('an agent registered over %s whose connection is dead is a 503 for the hunt (RFC 3261 §8.1.3.1), whichever the transport; the next agent takes the call', async (transport) => {
  const agents = cc.sb.engine.agents!.agents;
  const dead = transport === 'ws' ? 'alice' : 'carol';
  const caller = await CallerPhone.create(700);
  let phone: SipJsPhone | undefined;
  try {
    if (transport === 'ws') {
      const ws = cc.sb.sipListeners.find((l) => l.transport === 'ws')!;
      phone = await SipJsPhone.start({ server: `ws://127.0.0.1:${ws.port}`, aor: 'sip:alice@127.0.0.1', autoAnswer: true, auth: { username: 'alice', password: 'alice-secret' } });
      await phone.register();
      // The browser tab is gone: its connection drops, no un-REGISTER.
      (phone.ua.transport as unknown as { _ws: { terminate(): void } })._ws.terminate();
    } else {
      const peer = await SipPeer.create('tcp');
      const registered = await new Registrant(peer, cc.tcp).register({ user: 'carol', password: 'carol-secret' });
      expect(registered.message.kind === 'response' && registered.message.status).toBe(200);
      await peer.close();
    }
    await eventually(() => agents.get(dead).contacts.length === 1, 10_000, `${dead} registered`);
    agents.request(dead, 'ready', null, 'test');
    await eventually(async () => ((await cc.sb.status()) as { sipServer: { sipConnections: number } }).sipServer.sipConnections === 0, 10_000, 'the connection gone');
    agents.request('bob', 'ready', null, 'test');
    const call = caller.dial(cc.udp, '6000');
    await call.waitStatus(200, 15_000);
    call.hangUp();
    const record = await cc.recordOf(call.callId);
    expect(record.agentsTried.map((a) => [a.agent, a.outcome, a.status])).toEqual([
      [dead, 'failed', 503],
      ['bob', 'answered', 200],
    ]);
    expect(agents.get(dead)).toMatchObject({ state: 'not-ready', reason: 'missed' });
  } finally {
    caller.close();
    await phone?.stop();
    for (const id of [dead, 'bob']) agents.request(id, 'logged-out', null, 'test');
  }
});
