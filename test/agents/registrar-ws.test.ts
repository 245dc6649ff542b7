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
import { CallerPhone } from '../support/phones.js';
import { SipJsPhone } from '../support/sipjs-phone.js';

let cc: ContactCenter;
beforeAll(async () => {
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
      agents: [{ id: 'alice', name: 'Alice', password: 'alice-secret', startState: 'ready', queues: [{ queue: 'sales' }] }],
      queues: [{ id: 'sales', name: 'Sales', numbers: ['6000'], waiting: { maxWaitSeconds: 5, wrapUpSeconds: 0 } }],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
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
    await eventually(() => agents.get('alice').contacts.length === 0, 5000, 'alice unregistered');
    expect(agents.get('alice')).toMatchObject({ state: 'not-ready', reason: 'unreachable' });
  } finally {
    caller.close();
    await phone.stop();
  }
});
