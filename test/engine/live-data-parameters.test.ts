/**
 * Data parameters (the seed's setting.redirection.sip) end to end: a SIPp
 * carrier on the trusted trunk (127.0.0.2) calls a closed queue that deflects
 * to a phone number; the outbound INVITE reaches a SIPp gateway with exactly
 * the configured `{field, type, source, source_field}` headers (reserved
 * flags, caller, dialed number, queue, trunk, a header of the caller's
 * INVITE, a static value), none of the agent leg's headers and none of the
 * caller's; the call record keeps them (data_records.in_metadata). With
 * data_parameters_enabled false the same call sends none of them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { describeRun, freePort, runSipp } from '../support/sipp.js';
import { waitForBound } from '../support/interop/port-ready.js';

let cc: ContactCenter | undefined;
afterEach(async () => {
  await cc?.stop();
  cc = undefined;
});

const DATA_PARAMETERS = [
  { field: 'X-Verified-Customer', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_verified_customer' },
  { field: 'X-Bad-Actor', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_bad_actor' },
  { field: 'X-Repeat-Customer', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_repeat_customer' },
  { field: 'X-Caller', type: 'dynamic', source: 'session_metadata', source_field: 'caller_number' },
  { field: 'X-Dialed', type: 'dynamic', source: 'session_metadata', source_field: 'dialed_number' },
  { field: 'X-Queue-Name', type: 'dynamic', source: 'session_metadata', source_field: 'queue_name' },
  { field: 'X-Trunk', type: 'dynamic', source: 'session_metadata', source_field: 'trunk' },
  { field: 'X-Account', type: 'dynamic', source: 'sip_header', source_field: 'X-Account-Id' },
  { field: 'X-Campaign', type: 'static', value: 'spring-2026' },
];

async function contactCenter(gatewayPort: number, enabled: boolean): Promise<ContactCenter> {
  return startContactCenter(
    {
      trunks: {
        inbound: [{ id: 'carrier', trusted: true, headerMapping: 'flags', sources: [{ address: '127.0.0.2' }] }],
        outbound: [{ id: 'gateway', host: '127.0.0.1', port: gatewayPort }],
      },
      reservedData: {
        headerMappings: [{ id: 'flags', headers: [{ name: 'X-Reserved-Data', format: 'parameters' }] }],
        agentLeg: { flagsHeader: 'X-Reserved-Flags' },
      },
      redirection: { sip: { data_parameters_enabled: enabled, data_parameters: DATA_PARAMETERS, data_records: { in_metadata: true, in_crm_record: true } } },
      deflection: { calls: { enabled: true, ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } },
      queues: [{ id: 'forward', name: 'Forward to carrier', numbers: ['5000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } }],
    },
    { media: false },
  );
}

/** One call from the trusted carrier to 5000; returns the INVITE the gateway got and the caller's Call-ID. */
async function deflectedCall(center: ContactCenter, gatewayPort: number): Promise<{ invite: string; callId: string }> {
  const gateway = runSipp({ scenario: 'uas-answer.xml', port: gatewayPort, transport: 'udp', calls: 1, timeoutSec: 30, traceMessages: true });
  try {
    await waitForBound(gatewayPort, 'udp', 'SIPp gateway', 60_000);
    const caller = runSipp({
      scenario: 'uac-reserved-data.xml',
      remote: `${center.udp.host}:${center.udp.port}`,
      localIp: '127.0.0.2',
      port: await freePort(),
      transport: 'udp',
      calls: 1,
      service: '5000',
      pauseMs: 300,
      timeoutSec: 30,
      traceMessages: true,
      extra: ['-key', 'h1', 'X-Reserved-Data: verified_customer=true;bad_actor=false', '-key', 'h2', 'X-Account-Id: acct-42', '-key', 'h3', 'X-Filler: 3'],
    });
    const [c, g] = await Promise.all([caller.done, gateway.done]);
    expect(c.stats.successful, describeRun(c)).toBe(1);
    expect(g.stats.successful, describeRun(g)).toBe(1);
    const invite = /^INVITE sip:[\s\S]*?\r?\n\r?\n/m.exec(g.messages)?.[0];
    if (invite === undefined) throw new Error(`the gateway logged no INVITE:\n${g.messages.slice(0, 2000)}`);
    return { invite, callId: /^Call-ID:\s*(\S+)/m.exec(c.messages)![1]! };
  } finally {
    gateway.kill();
  }
}

/** The X- headers of a message, name → value. */
function xHeaders(message: string): Record<string, string> {
  return Object.fromEntries([...message.matchAll(/^(X-[^:\s]+):[ \t]*(.*?)\r?$/gim)].map((m) => [m[1]!, m[2]!]));
}

describe('data parameters in the INVITE of a phone-number deflection', () => {
  it('enabled: exactly the configured headers reach the gateway, and the record keeps them', async () => {
    const gatewayPort = await freePort();
    cc = await contactCenter(gatewayPort, true);
    const { invite, callId } = await deflectedCall(cc, gatewayPort);
    const record = await cc.recordOf(callId);
    const expected = {
      'X-Verified-Customer': 'true',
      'X-Bad-Actor': 'false',
      'X-Caller': '+15550100',
      'X-Dialed': '5000',
      'X-Queue-Name': 'Forward to carrier',
      'X-Trunk': 'carrier',
      'X-Account': 'acct-42',
      'X-Campaign': 'spring-2026',
    };
    // X-Repeat-Customer: the caller did not say, so nothing is sent (never a made-up value).
    expect(xHeaders(invite)).toEqual({ ...expected, 'X-Switchboard-Call': record.call, 'X-Switchboard-Queue': 'forward' });
    expect(record.dataParameters).toEqual(expected);
    expect(record.deflection).toEqual({ action: 'phoneNumber', target: '+15550199' });
    expect(record.reservedData).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false });
    await cc.settled();
  });

  it('disabled: the same call sends none of them', async () => {
    const gatewayPort = await freePort();
    cc = await contactCenter(gatewayPort, false);
    const { invite, callId } = await deflectedCall(cc, gatewayPort);
    const record = await cc.recordOf(callId);
    expect(xHeaders(invite)).toEqual({ 'X-Switchboard-Call': record.call, 'X-Switchboard-Queue': 'forward' });
    expect(record.dataParameters).toBeNull();
    // The flags were read all the same: only sending them on is switched off.
    expect(record.reservedData).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false });
    await cc.settled();
  });
});
