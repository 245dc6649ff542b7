/**
 * Stopping the engine with a call up (a second signal, or the end of a drain
 * that ended the calls) hangs both legs up on the wire before the SIP server
 * goes: the caller and the agent each get a BYE saying why. The BYEs are not
 * awaited by the call (a dead phone would hold it), so this shows they still
 * leave before the shutdown closes the SIP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter({
    media: { whisper: { enabled: false } },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
  });
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  caller?.close();
});

describe('stopping with a call up', () => {
  it('both legs get a BYE with the reason before the SIP server closes', async () => {
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 20_000);
    await cc.bridged(call.callId);
    await cc.sb.stop();
    await eventually(() => call.requests.includes('BYE') && agent.calls[0]!.requests.includes('BYE'), 10_000, 'BYE at both phones');
    const byes = [caller.peer, agent.peer].map((p) => p.received.find((r) => r.message.kind === 'request' && r.message.method === 'BYE')!);
    for (const bye of byes) expect(bye.message.headers.get('reason')).toBe('Q.850;cause=16;text="engine stopping"');
  });
});
