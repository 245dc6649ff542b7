/**
 * The waiting queue under load with real peers: five SIPp agents (registered
 * with digest authentication by a SIPp REGISTER scenario, each answering and
 * hanging up after four seconds) and twenty callers at once (sixteen SIPp
 * callers and four test phones that decode what they hear). Checked from the
 * call records alone (the engine's own clock, no wall-clock figures): every
 * caller either reached an agent or overflowed at the maximum wait; callers
 * were offered agents in the order they joined; no agent ever had two calls,
 * and wrap-up was honoured; each offer went to the agent idle longest among
 * those ready; waiting callers heard the hold audio. Afterwards the queue is
 * empty, the agents ready or in wrap-up, and nothing is left.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallRecord } from '../../src/engine/call-record.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { CallerPhone } from '../support/phones.js';
import { runsOf, streamPcm, toneLevels } from '../support/rtp/audio-check.js';
import { describeRun, freePort, runSipp, type SippRun } from '../support/sipp.js';
import { waitForBound } from '../support/interop/port-ready.js';

const AGENTS = 5;
const SIPP_CALLERS = 16;
const PHONE_CALLERS = 4;
const MAX_WAIT_S = 5;
const WRAP_UP_S = 1;

let cc: ContactCenter;
let dir: string;
const agentPorts: number[] = [];
const agentRuns: SippRun[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-load-'));
  for (let i = 0; i < AGENTS; i++) agentPorts.push(await freePort());
  cc = await startContactCenter({
    media: { whisper: { enabled: false, countdown: false } },
    registrar: { algorithms: ['MD5'], keepAlive: { intervalSeconds: 0 }, rateLimit: { perSourcePerSecond: 100, burst: 100 } },
    agents: agentPorts.map((_, i) => ({ id: `a${i + 1}`, name: `Agent ${i + 1}`, password: `secret-${i + 1}`, startState: 'ready', queues: [{ queue: 'load' }] })),
    queues: [
      {
        id: 'load',
        name: 'Load',
        numbers: ['8000'],
        ringTimeoutSeconds: 5,
        waiting: { maxWaitSeconds: MAX_WAIT_S, wrapUpSeconds: WRAP_UP_S, overflow: { option: 'message', message: { en: { text: 'All our agents are busy. Please call again later.' } } } },
      },
    ],
  });
  // Each SIPp agent answers, talks for four seconds and hangs up; then waits for the next call. (An agent
  // gone before a starved engine reaches the bridge sends its caller back to the queue, rightly, but
  // that is not what this test is about: four seconds leave room for a busy CI machine.)
  for (const port of agentPorts) agentRuns.push(runSipp({ scenario: 'uas-answer-hangup.xml', port, transport: 'udp', calls: 100, pauseMs: 4000, timeoutSec: 120 }));
  for (const port of agentPorts) await waitForBound(port, 'udp', 'SIPp agent', 60_000);
  const inf = join(dir, 'agents.csv');
  writeFileSync(inf, `SEQUENTIAL\n${agentPorts.map((p, i) => `a${i + 1};${p};[authentication username=a${i + 1} password=secret-${i + 1}];600;`).join('\n')}\n`);
  const reg = await runSipp({ scenario: 'reg-agent.xml', remote: `127.0.0.1:${cc.udp.port}`, port: await freePort(), transport: 'udp', calls: AGENTS, rate: 50, extra: ['-inf', inf] }).done;
  expect(reg.stats.successful, describeRun(reg)).toBe(AGENTS);
});
afterAll(async () => {
  for (const r of agentRuns) r.kill();
  await Promise.all(agentRuns.map((r) => r.done.catch(() => undefined)));
  await cc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));
const num = (r: CallRecord, k: string): number => r.facts[k] as number;

it('twenty callers for five agents: arrival order, one call per agent, longest idle first, overflow at the maximum wait, hold audio heard', { timeout: 120_000 }, async () => {
  const registry = cc.sb.engine.agents!.agents;
  expect(registry.list().map((a) => [a.state, a.contacts.length])).toEqual(Array.from({ length: AGENTS }, () => ['ready', 1]));
  const callers = runSipp({ scenario: 'uac-wait-bye.xml', remote: `127.0.0.1:${cc.udp.port}`, port: await freePort(), transport: 'udp', calls: SIPP_CALLERS, rate: 8, service: '8000', timeoutSec: 90 });
  const phones = await Promise.all(Array.from({ length: PHONE_CALLERS }, () => CallerPhone.create(700)));
  try {
    // The phones call once every agent is busy and callers wait: they wait too.
    const queue = () => cc.sb.engine.status().contactCenter!.queues[0]!;
    await eventually(() => queue().waiting - queue().offering >= 3, 20_000, 'callers waiting');
    const calls = phones.map((p) => p.dial(cc.udp, '8000'));
    await Promise.all(calls.map((c) => c.waitRequest('BYE', 60_000)));
    const sipp = await callers.done;
    expect(sipp.stats.successful, describeRun(sipp)).toBe(SIPP_CALLERS);

    await eventually(() => cc.records().length === SIPP_CALLERS + PHONE_CALLERS, 20_000, () => `all call records (${cc.records().length})`);
    const records = cc.records();
    const answered = records.filter((r) => r.facts.leftQueueAs === 'answered');
    const overflowed = records.filter((r) => r.facts.leftQueueAs === 'overflowed');
    // Every caller reached an agent or overflowed; at least a round's worth reached agents and, with four rounds needed, some overflowed.
    expect(answered.length + overflowed.length).toBe(records.length);
    expect(answered.length).toBeGreaterThanOrEqual(AGENTS);
    expect(overflowed.length).toBeGreaterThan(0);
    for (const r of answered) expect(r.agent).toMatch(/^a[1-5]$/);
    for (const r of overflowed) {
      expect(r).toMatchObject({ agent: null, facts: { overflow: 'message' }, deflection: { action: 'message' } });
      // An agent freed just as a caller's wait ran out was rung for what was left of it and CANCELled at the
      // maximum wait (the agents answer at once otherwise): the only try an overflowed caller can have.
      expect(r.agentsTried.filter((a) => a.outcome !== 'no-answer' || a.status !== 487)).toEqual([]);
      expect(num(r, 'leftQueueAt') - num(r, 'queuedAt')).toBeGreaterThanOrEqual(MAX_WAIT_S * 1000);
    }

    // First come, first served: whenever a call was offered an agent, every call that joined before it had been offered one already or had left.
    const byJoin = [...records].sort((a, b) => num(a, 'queuedAt') - num(b, 'queuedAt'));
    const offeredAt = (r: CallRecord): number => (r.agentsTried[0] !== undefined ? ms(r.agentsTried[0].offeredAt) : Infinity);
    byJoin.forEach((later, j) => {
      const t = offeredAt(later);
      if (t === Infinity) return;
      for (const earlier of byJoin.slice(0, j)) {
        expect(Math.min(offeredAt(earlier), num(earlier, 'leftQueueAt')), `call ${earlier.call} joined before ${later.call}`).toBeLessThanOrEqual(t);
      }
    });

    // One call per agent at a time, wrap-up honoured: an agent's next offer comes after its last call ended plus the wrap-up.
    const offers = answered.map((r) => ({ agent: r.agent!, at: ms(r.agentsTried[0]!.offeredAt), idleSince: ms(r.agentsTried[0]!.idleSince), ended: ms(r.times.ended) }));
    for (let i = 1; i <= AGENTS; i++) {
      const mine = offers.filter((o) => o.agent === `a${i}`).sort((a, b) => a.at - b.at);
      for (let k = 1; k < mine.length; k++) {
        expect(mine[k]!.at).toBeGreaterThanOrEqual(mine[k - 1]!.ended);
        expect(mine[k]!.idleSince).toBeGreaterThanOrEqual(mine[k - 1]!.ended + WRAP_UP_S * 1000);
      }
    }
    // Longest idle first: at each offer, no other agent had been ready (idle and not yet offered) for longer.
    for (const o of offers) {
      for (const other of offers) {
        if (other.agent === o.agent) continue;
        const readyThen = other.idleSince <= o.at && o.at < other.at;
        if (readyThen) expect(o.idleSince, `${o.agent} offered at ${o.at} while ${other.agent} was idle since ${other.idleSince}`).toBeLessThanOrEqual(other.idleSince);
      }
    }

    // The phones waited, answered by the engine, hearing ringback (440 + 480 Hz) before their agent or the overflow.
    for (const p of phones) {
      const first = runsOf(p.rtp.received)[0]!.slice(0, 100);
      expect(Math.max(...toneLevels(streamPcm(first), 440))).toBeGreaterThan(500);
    }

    // Afterwards: the queue empty, every agent ready or in wrap-up, nothing left.
    expect(queue()).toMatchObject({ waiting: 0, offering: 0, answered: answered.length, overflowed: overflowed.length });
    for (const a of registry.list()) expect(['ready', 'wrap-up']).toContain(a.state);
    await eventually(() => registry.list().every((a) => a.state === 'ready'), 10_000, 'every agent ready after wrap-up');
    expect(registry.list().reduce((n, a) => n + a.callsTaken, 0)).toBe(answered.length);
    await cc.settled();
  } finally {
    callers.kill();
    for (const p of phones) p.close();
  }
});
