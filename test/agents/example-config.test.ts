/**
 * The shipped example (config/examples/contact-center.yaml) as the README
 * tells people to try it: number 6000 is the queue Sales, served only by the
 * agent alice, whose phone registers with the example password; a call rings
 * her registered phone; while she is not ready callers wait, answered, hearing
 * ringback. Only the listening ports and the state directory are changed (the
 * example's are fixed).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { Registrant, statusOf } from '../support/registration.js';

const example = parse(readFileSync(resolve(import.meta.dirname, '../../config/examples/contact-center.yaml'), 'utf8')) as Record<string, unknown>;

let cc: ContactCenter;
beforeAll(async () => {
  const { node: _node, sipServer: _sip, api: _api, recordings: _rec, crm: _crm, ...rest } = example;
  cc = await startContactCenter(rest);
});
afterAll(async () => {
  await cc?.stop();
});

it('6000: alice registers with the example password and takes the call; while she is not ready the caller waits, answered', async () => {
  const sales = (cc.sb.engine.agents!.queues.settingsOf('sales'));
  expect(sales).toMatchObject({ maxWaitMs: 30_000 });
  const alice = await AgentPhone.create(1300);
  const caller = await CallerPhone.create(700);
  try {
    expect(statusOf(await new Registrant(alice.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 120, algorithm: 'MD5' }))).toBe(200);
    const call = caller.dial(cc.udp, '6000');
    await call.waitStatus(200, 20_000);
    expect(alice.calls).toHaveLength(1);
    call.hangUp();
    expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'alice', queuePath: ['sales'] });

    cc.sb.engine.agents!.agents.request('alice', 'not-ready', 'break', 'test');
    const waiting = caller.dial(cc.udp, '6000');
    await waiting.waitStatus(200, 10_000);
    await eventually(() => cc.sb.engine.status().contactCenter!.queues.find((q) => q.id === 'sales')!.waiting === 1, 5000, 'the caller waiting');
    expect(alice.calls).toHaveLength(1);
    waiting.hangUp();
    await cc.recordOf(waiting.callId);
    await cc.settled();
  } finally {
    alice.close();
    caller.close();
  }
});
