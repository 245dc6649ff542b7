/**
 * The shipped example (config/examples/contact-center.yaml) does what its
 * comments and the README say: its trunks and reserved-data sections, with
 * test agents, make calls from 127.0.0.2 trusted (X-Reserved-Data, any subset
 * in any order, becomes X-Reserved-Flags on the agent leg: the true flags,
 * absent when none) and calls from any other source untrusted.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigFile } from '../../src/config/load.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let agent: AgentPhone;
let trusted: CallerPhone;
let other: CallerPhone;

beforeAll(async () => {
  const example = loadConfigFile(resolve(import.meta.dirname, '../../config/examples/contact-center.yaml'), { checks: configChecks });
  agent = await AgentPhone.create(1300);
  trusted = await CallerPhone.create(700, 'udp', '127.0.0.2');
  other = await CallerPhone.create(700, 'udp', '127.0.0.3');
  cc = await startContactCenter(
    {
      trunks: { unknownSources: example.trunks.unknownSources, inbound: example.trunks.inbound },
      reservedData: example.reservedData,
      queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  trusted?.close();
  other?.close();
});

async function flagsFor(phone: CallerPhone, header: string | undefined): Promise<{ agentFlags: string | undefined; reserved: unknown; trunk: unknown }> {
  const call = phone.dial(cc.udp, '1000', { extra: header === undefined ? [] : [`X-Reserved-Data: ${header}`] });
  await call.waitStatus(200, 20_000);
  call.hangUp();
  const record = await cc.recordOf(call.callId);
  const invite = agent.calls.find((c) => c.invite.raw.includes(`X-Switchboard-Call: ${record.call}`))!.invite.raw;
  return { agentFlags: /^X-Reserved-Flags: (.*?)\r?$/m.exec(invite)?.[1], reserved: record.reservedData, trunk: record.trunk };
}

describe('the example contact center: trunks and reserved data', () => {
  it.each([
    ['verified_customer=true;bad_actor=false;repeat_customer=true', 'verified_customer,repeat_customer'],
    ['repeat_customer=true;verified_customer=true', 'verified_customer,repeat_customer'],
    ['bad_actor=true', 'bad_actor'],
    ['bad_actor=false;verified_customer=false', undefined],
  ])('from 127.0.0.2, X-Reserved-Data: %s gives the agent leg X-Reserved-Flags: %s', async (header, flags) => {
    const got = await flagsFor(trusted, header);
    expect(got.agentFlags).toBe(flags);
    expect(got.trunk).toEqual({ id: 'trusted-carrier', name: 'Trusted carrier', trusted: true });
  });

  it('from 127.0.0.2 without the header: no flags header', async () => {
    expect((await flagsFor(trusted, undefined)).agentFlags).toBeUndefined();
  });

  it('from any other source the header sets nothing: untrusted', async () => {
    const got = await flagsFor(other, 'verified_customer=true;repeat_customer=true');
    expect(got).toEqual({ agentFlags: undefined, reserved: {}, trunk: { id: null, name: null, trusted: false } });
    await cc.settled();
  });
});
