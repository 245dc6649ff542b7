/**
 * An external rtpengine (`media.rtpengine.mode: external`) that dies and is
 * brought back by its supervisor (systemd) has lost every call it carried,
 * and says nothing of them. A connected call through it has no media any
 * more: the media timeout's check finds the relay no longer knows the call
 * and ends it "media relay lost" (issue 8 §1), with BYE to both phones,
 * instead of leaving it connected in silence until the 4-hour limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { startTestRtpengine, type TestRtpengine } from '../support/rtp/rtpengine-harness.js';

let external: TestRtpengine;
let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  external = await startTestRtpengine({ restart: { minDelayMs: 100, maxDelayMs: 200 } });
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter({
    media: {
      rtpengine: { mode: 'external', external: [{ host: '127.0.0.1', port: external.rtpengine.ngPort! }], healthCheckMs: 500 },
      whisper: { countdown: false },
      timeout: { seconds: 3, onHoldSeconds: 600, oneSideSeconds: 600 },
    },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
  });
});
afterAll(async () => {
  await cc?.stop();
  await external?.stop();
  agent?.close();
  caller?.close();
});

describe('an external rtpengine restarted under a connected call', () => {
  it('the call is ended "media relay lost", both phones get BYE, and nothing is left', async () => {
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    await cc.bridged(call.callId);
    const before = external.rtpengine.pid!;
    process.kill(before, 'SIGKILL');
    await eventually(() => external.rtpengine.pid !== undefined && external.rtpengine.pid !== before, 15_000, 'rtpengine restarted');
    await call.waitRequest('BYE', 30_000);
    await eventually(() => agent.calls.at(-1)!.requests.includes('BYE'), 10_000, 'the BYE to the agent');
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endReason: 'media relay lost', endedBy: 'engine' });
    await cc.settled();
  }, 90_000);
});
