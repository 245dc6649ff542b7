/**
 * A caller left ringing longer than the SIP server gives an app to answer
 * (`sipServer.timers.appResponseTimeoutMs`, 64 s by default; 2 s here): a
 * plain hunt of several agents, each ringing its full ring time, easily takes
 * longer. The engine sends its last provisional again every half of that time
 * (RFC 3261 §13.3.1.1 wants one a minute, for proxies' Timer C), each of which
 * restarts the server's timer, so the caller keeps hearing ringback until an
 * agent answers, instead of getting the server's 500 in the middle of the hunt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let ann: AgentPhone;
let bob: AgentPhone;

beforeAll(async () => {
  ann = await AgentPhone.create(1300);
  bob = await AgentPhone.create(1500);
  cc = await startContactCenter({
    sipServer: { timers: { t1Ms: 25, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 2000 } },
    media: { whisper: { enabled: false } },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], ringTimeoutSeconds: 3, agents: [ann.uri('ann'), bob.uri('bob')] }],
  });
});
afterAll(async () => {
  await cc?.stop();
  ann?.close();
  bob?.close();
});

describe('a hunt longer than the app timeout', () => {
  it('the caller gets its 183 again while the first agent rings out, then the second agent answers: 200, not 500', async () => {
    ann.behaviour = 'ring';
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(183, 10_000);
      expect(await call.waitFinal(30_000)).toBe(200);
      // The first 183, and at least one more before the server's 2 s were up (ann rang 3 s).
      expect(call.responses.filter((s) => s === 183).length).toBeGreaterThanOrEqual(2);
      expect(ann.calls[0]!.cancel?.message.headers.values('reason')).toEqual(['Q.850;cause=19;text="No answer"']);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => [a.agent, a.outcome])).toEqual([
        [ann.uri('ann'), 'no-answer'],
        [bob.uri('bob'), 'answered'],
      ]);
      expect(record.endedBy).toBe('caller');
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});
