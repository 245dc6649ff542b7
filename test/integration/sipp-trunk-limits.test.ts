/**
 * Per-trunk limits with SIPp carriers on three loopback addresses at once:
 * a trunk over its concurrent-call limit, or over its call rate, gets 503
 * with Retry-After (RFC 3261 §21.5.4) for the calls beyond it, while another
 * trunk calling at the same moment gets every call through. Limits count only
 * admitted calls, and a call slot is given back when the call ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone } from '../support/phones.js';
import { describeRun, freePort, inviteOutcomes, runSipp, type SippResult } from '../support/sipp.js';

let cc: ContactCenter;
let agent: AgentPhone;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  cc = await startContactCenter(
    {
      trunks: {
        unknownSources: 'refuse',
        inbound: [
          { id: 'busy', sources: [{ address: '127.0.0.2' }], limits: { concurrentCalls: 2, retryAfterSeconds: 7 } },
          { id: 'other', sources: [{ address: '127.0.0.3' }], limits: { concurrentCalls: 10, callsPerSecond: 100 } },
          { id: 'fast', sources: [{ address: '127.0.0.4' }], limits: { callsPerSecond: 0.02, burst: 2 } },
        ],
      },
      queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
});

async function calls(localIp: string, n: number, holdMs: number, to: ContactCenter = cc): Promise<ReturnType<typeof runSipp>> {
  return runSipp({
    scenario: 'uac-trunk-limit.xml',
    remote: `${to.udp.host}:${to.udp.port}`,
    localIp,
    port: await freePort(),
    transport: 'udp',
    calls: n,
    rate: 100,
    pauseMs: holdMs,
    timeoutSec: 60,
    traceMessages: true,
  });
}

function outcomes(r: SippResult): { answered: number; refused: { status: number; retryAfter: number | undefined; phrase: string }[] } {
  expect(r.stats.failed, describeRun(r)).toBe(0);
  const all = [...inviteOutcomes(r.messages).values()];
  expect(all.length, describeRun(r)).toBe(r.stats.created);
  return {
    answered: all.filter((o) => o.status === 200).length,
    refused: all
      .filter((o) => o.status !== 200)
      .map((o) => ({ status: o.status, retryAfter: Number(/^Retry-After:\s*(\d+)/im.exec(o.text)?.[1] ?? NaN) || undefined, phrase: /^SIP\/2\.0 \d{3} (.*?)\r?$/m.exec(o.text)![1]! })),
  };
}

describe('trunk limits (SIPp from two sources at once)', () => {
  it('over its concurrent-call limit a trunk gets 503 with Retry-After; the other trunk is not affected', async () => {
    // Five calls held for 8 s on a trunk allowing two at once, three on another trunk meanwhile.
    const [busy, other] = await Promise.all([calls('127.0.0.2', 5, 8000), calls('127.0.0.3', 3, 8000)]);
    const [b, o] = await Promise.all([busy.done, other.done]);
    const bo = outcomes(b);
    expect(bo.answered).toBe(2);
    expect(bo.refused).toEqual(Array(3).fill({ status: 503, retryAfter: 7, phrase: 'Service Unavailable (trunk concurrent calls exceeded)' }));
    expect(outcomes(o)).toEqual({ answered: 3, refused: [] });
    expect((cc.sb.engine.status().trunks as Record<string, unknown>).busy).toMatchObject({ admitted: 2, refusedConcurrency: 3, refusedRate: 0 });
    await eventually(() => cc.sb.engine.status().trunks.busy!.live === 0, 15_000, 'the busy trunk\'s slots given back');
    // Its slots are free again: the next call goes through.
    const again = await calls('127.0.0.2', 1, 100);
    expect(outcomes(await again.done)).toEqual({ answered: 1, refused: [] });
  });

  it('over its call rate a trunk gets 503 with Retry-After (when its next call is due); the other trunk is not affected', async () => {
    const [fast, other] = await Promise.all([calls('127.0.0.4', 5, 300), calls('127.0.0.3', 3, 300)]);
    const [f, o] = await Promise.all([fast.done, other.done]);
    const fo = outcomes(f);
    expect(fo.answered).toBe(2);
    expect(fo.refused).toHaveLength(3);
    for (const r of fo.refused) {
      expect(r).toMatchObject({ status: 503, phrase: 'Service Unavailable (trunk call rate exceeded)' });
      // One call per 50 s: the next is due within 50 s.
      expect(r.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.retryAfter).toBeLessThanOrEqual(50);
    }
    expect(outcomes(o)).toEqual({ answered: 3, refused: [] });
    expect(cc.sb.engine.status().trunks.fast).toMatchObject({ admitted: 2, refusedRate: 3, refusedConcurrency: 0 });
  });

  it('an unknown source is refused with 403 when unknown sources are refused', async () => {
    const unknown = await calls('127.0.0.5', 1, 100);
    const r = await unknown.done;
    expect(r.stats.failed, describeRun(r)).toBe(0);
    const all = [...inviteOutcomes(r.messages).values()];
    expect(all.map((x) => x.status), describeRun(r)).toEqual([403]);
    await cc.settled();
  });
});

describe('sources no trunk claims, accepted untrusted, share trunks.unknownSourceLimits', () => {
  let open: ContactCenter;
  beforeAll(async () => {
    open = await startContactCenter(
      {
        trunks: {
          unknownSourceLimits: { concurrentCalls: 2, retryAfterSeconds: 9 },
          inbound: [{ id: 'carrier', trusted: true, sources: [{ address: '127.0.0.2' }] }],
        },
        queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
      },
      { media: false },
    );
  });
  afterAll(async () => {
    await open?.stop();
  });

  it('past them an unknown source gets 503 with Retry-After, while the trusted trunk calling at the same moment gets every call through', async () => {
    const [unknown, carrier] = await Promise.all([calls('127.0.0.6', 5, 8000, open), calls('127.0.0.2', 3, 8000, open)]);
    const [u, c] = await Promise.all([unknown.done, carrier.done]);
    const uo = outcomes(u);
    expect(uo.answered).toBe(2);
    expect(uo.refused).toEqual(Array(3).fill({ status: 503, retryAfter: 9, phrase: 'Service Unavailable (concurrent calls for unknown sources exceeded)' }));
    expect(outcomes(c)).toEqual({ answered: 3, refused: [] });
    expect(open.sb.engine.status().trunks['(unknown sources)']).toMatchObject({ admitted: 2, refusedConcurrency: 3 });
    await eventually(() => open.sb.engine.status().trunks['(unknown sources)']!.live === 0, 15_000, 'the unknown sources\' slots given back');
  });
});
