/**
 * An external rtpengine (`media.rtpengine.mode: external`) that dies and is
 * brought back by its supervisor (systemd) has lost every call it carried,
 * and says nothing of them. The health check reads its uptime and finds it
 * restarted; each call it carried, asked about, is unknown there, and is
 * ended "media relay lost" (issue 8 §1): a connected call with BYE to both
 * phones, instead of staying connected in silence until the 4-hour limit; a
 * caller still hearing ringback with 480 and a CANCEL to the ringing agent,
 * instead of waiting in silence for an agent it could not be bridged to.
 * (The media-timeout check would end the connected call too, after its
 * `seconds`: set long here, so the restart's detection alone is seen.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { startTestRtpengine, type TestRtpengine } from '../support/rtp/rtpengine-harness.js';
import { uptimeSecondsOf } from '../../src/media/rtpengine/rtpengine-pool.js';

let external: TestRtpengine;
let cc: ContactCenter;
let agent: AgentPhone;
let ringing: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  external = await startTestRtpengine({ restart: { minDelayMs: 100, maxDelayMs: 200 } });
  agent = await AgentPhone.create(1300);
  ringing = await AgentPhone.create(1500);
  ringing.behaviour = 'ring';
  caller = await CallerPhone.create(700);
  cc = await startContactCenter({
    media: {
      rtpengine: { mode: 'external', external: [{ host: '127.0.0.1', port: external.rtpengine.ngPort! }], healthCheckMs: 500 },
      whisper: { countdown: false },
      timeout: { seconds: 600, onHoldSeconds: 600, oneSideSeconds: 600 },
    },
    engine: { ringTimeoutSeconds: 50 },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
      { id: 'slow', name: 'Slow', numbers: ['2000'], agents: [ringing.uri()] },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  await external?.stop();
  agent?.close();
  ringing?.close();
  caller?.close();
});

/**
 * Kills the relay and waits for its supervisor to bring it back. The health check tells
 * restarts a second or more apart (rtpengine's uptime is in whole seconds): the relay is
 * first let run that long, as any relay in service has.
 */
async function restartRelay(): Promise<void> {
  const uptime = async (): Promise<number> => uptimeSecondsOf(await external.rtpengine.client.request('statistics', {})) ?? 0;
  await eventually(async () => (await uptime()) >= 3, 10_000, 'the relay up for 3 s', 200);
  const before = external.rtpengine.pid!;
  process.kill(before, 'SIGKILL');
  await eventually(() => external.rtpengine.pid !== undefined && external.rtpengine.pid !== before, 15_000, 'rtpengine restarted');
}

describe('an external rtpengine restarted under a connected call', () => {
  it('the call is ended "media relay lost", both phones get BYE, and nothing is left', async () => {
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    await cc.bridged(call.callId);
    await restartRelay();
    await call.waitRequest('BYE', 30_000);
    await eventually(() => agent.calls.at(-1)!.requests.includes('BYE'), 10_000, 'the BYE to the agent');
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endReason: 'media relay lost', endedBy: 'engine' });
    await cc.settled();
  }, 90_000);
});

describe('an external rtpengine restarted under a caller hearing ringback', () => {
  it('the caller gets 480, the ringing agent CANCEL, the record says "media relay lost", and a new call works', async () => {
    const call = caller.dial(cc.udp, '2000');
    await call.waitStatus(183, 30_000);
    await eventually(() => ringing.calls.length > 0, 10_000, 'the agent rung');
    await eventually(() => caller.rtp.received.length > 0, 10_000, 'ringback through the relay');
    await restartRelay();
    expect(await call.waitFinal(30_000)).toBe(480);
    await eventually(() => ringing.calls.at(-1)!.requests.includes('CANCEL'), 10_000, 'the CANCEL to the agent');
    expect(await cc.recordOf(call.callId)).toMatchObject({ endReason: 'media relay lost', endedBy: 'engine' });
    const again = caller.dial(cc.udp, '1000');
    await again.waitStatus(200, 30_000);
    await cc.bridged(again.callId);
    again.hangUp();
    await cc.recordOf(again.callId);
    await cc.settled();
  }, 90_000);
});
