/**
 * Reserved data end to end, from SIPp carriers on two loopback addresses: a
 * trusted trunk (127.0.0.2) and an untrusted one (127.0.0.3) send every
 * header form (X-Reserved-Data, one header per property, RFC 7433
 * User-to-User, verstat on P-Asserted-Identity). The flags are set exactly
 * when the trunk is trusted and the header valid, and the same flags show in
 * the call record, in the agent leg's INVITE (X-Reserved-Flags, only the true
 * ones, absent when none) and in the CRM metadata of the delivered recording.
 * A supervisor's change mid-call (the engine's call control, as the API does
 * it) reaches the record and the CRM too. A trusted trunk's CRM ticket header
 * names the ticket the recording is attached to.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/engine/call-record.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone } from '../support/phones.js';
import { describeRun, freePort, runSipp } from '../support/sipp.js';

let cc: ContactCenter;
let agent: AgentPhone;

const hex = (text: string): string => Buffer.from(text, 'ascii').toString('hex');

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  cc = await startContactCenter(
    {
      media: { whisper: { enabled: false } },
      crm: { ticket: { header: 'X-CRM-Ticket', link: 'https://crm.example/cases/{ticket}' } },
      trunks: {
        unknownSources: 'untrusted',
        inbound: [
          { id: 'carrier', name: 'Trusted carrier', trusted: true, headerMapping: 'carrier-flags', sources: [{ address: '127.0.0.2' }] },
          { id: 'other', name: 'Untrusted carrier', trusted: false, sources: [{ address: '127.0.0.3' }] },
        ],
      },
      reservedData: {
        headerMappings: [
          {
            id: 'carrier-flags',
            headers: [
              { name: 'X-Reserved-Data', format: 'parameters' },
              { name: 'X-Reserved-Verified-Customer', format: 'boolean', property: 'reserved_verified_customer' },
              { name: 'X-Reserved-Bad-Actor', format: 'boolean', property: 'reserved_bad_actor' },
              { name: 'X-Reserved-Repeat-Customer', format: 'boolean', property: 'reserved_repeat_customer' },
              { name: 'User-to-User', format: 'uui', purpose: 'ccai-flags' },
            ],
          },
        ],
        agentLeg: { flagsHeader: 'X-Reserved-Flags', attestationHeader: 'X-Caller-Attestation' },
      },
      queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()], recording: { enabled: true } }],
    },
    { worker: true },
  );
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
});

interface Case {
  readonly name: string;
  readonly headers: readonly string[];
  readonly flags: Partial<Record<'reserved_verified_customer' | 'reserved_bad_actor' | 'reserved_repeat_customer', boolean>>;
  /** The agent leg's X-Reserved-Flags (undefined: absent). */
  readonly agentFlags: string | undefined;
  readonly attestation: string | null;
}

const FORMS = {
  single: ['X-Reserved-Data: verified_customer=true;bad_actor=false;repeat_customer=true'],
  perProperty: ['X-Reserved-Verified-Customer: no', 'X-Reserved-Bad-Actor: YES', 'X-Reserved-Repeat-Customer: 0'],
  uui: [`User-to-User: ${hex('repeat_customer=1;verified_customer=yes')};encoding=hex;purpose=ccai-flags`, 'P-Asserted-Identity: <sip:+15550100;verstat=TN-Validation-Passed@carrier.example;user=phone>'],
};

const TRUSTED: readonly Case[] = [
  { name: 'one X-Reserved-Data header', headers: FORMS.single, flags: { reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true }, agentFlags: 'verified_customer,repeat_customer', attestation: null },
  { name: 'a header per property', headers: FORMS.perProperty, flags: { reserved_verified_customer: false, reserved_bad_actor: true, reserved_repeat_customer: false }, agentFlags: 'bad_actor', attestation: null },
  { name: 'RFC 7433 User-to-User, with a verstat', headers: FORMS.uui, flags: { reserved_verified_customer: true, reserved_repeat_customer: true }, agentFlags: 'verified_customer,repeat_customer', attestation: 'passed' },
  { name: 'no reserved data', headers: [], flags: {}, agentFlags: undefined, attestation: null },
  // The carrier's own parameters, with any value or none, and a trailing ";": ours still count.
  { name: "the carrier's own parameters next to ours", headers: ['X-Reserved-Data: verified_customer=1;foo=bar;account=12345;vip;'], flags: { reserved_verified_customer: true }, agentFlags: 'verified_customer', attestation: null },
];
const UNTRUSTED: readonly Case[] = [
  { name: 'one X-Reserved-Data header', headers: FORMS.single, flags: {}, agentFlags: undefined, attestation: null },
  { name: 'a header per property', headers: FORMS.perProperty, flags: {}, agentFlags: undefined, attestation: null },
  { name: 'RFC 7433 User-to-User, with a verstat', headers: FORMS.uui, flags: {}, agentFlags: undefined, attestation: null },
];

async function delivered(recordingId: string, folder = recordingId): Promise<{ details: { callRecord: CallRecord } }> {
  const dir = join(cc.dir, 'crm', folder);
  await eventually(() => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.wav.json')), 60_000, `recording ${recordingId} delivered to the CRM`);
  const name = readdirSync(dir).find((f) => f.endsWith('.wav.json'))!;
  return (JSON.parse(readFileSync(join(dir, name), 'utf8')) as { metadata: { details: { callRecord: CallRecord } } }).metadata;
}

function agentInviteOf(call: string): string {
  const offered = agent.calls.find((c) => new RegExp(`^X-Switchboard-Call: ${call}\\r?$`, 'm').test(c.invite.raw));
  if (offered === undefined) throw new Error(`the agent got no INVITE for ${call}`);
  return offered.invite.raw;
}

const headerOf = (raw: string, name: string): string | undefined => new RegExp(`^${name}:\\s*(.*?)\\r?$`, 'mi').exec(raw)?.[1];

async function place(localIp: string, headers: readonly string[]): Promise<string> {
  const slots = [...headers, 'X-Filler: 1', 'X-Filler: 2', 'X-Filler: 3'].slice(0, 3);
  const run = runSipp({
    scenario: 'uac-reserved-data.xml',
    remote: `${cc.udp.host}:${cc.udp.port}`,
    localIp,
    port: await freePort(),
    transport: 'udp',
    calls: 1,
    pauseMs: 1500,
    timeoutSec: 30,
    traceMessages: true,
    extra: ['-key', 'h1', slots[0]!, '-key', 'h2', slots[1]!, '-key', 'h3', slots[2]!, '-rtp_echo', '-mp', String(await freePort())],
  });
  const result = await run.done;
  expect(result.stats.successful, describeRun(result)).toBe(1);
  const callId = /^Call-ID:\s*(\S+)/m.exec(result.messages)?.[1];
  if (callId === undefined) throw new Error(`no Call-ID in SIPp's messages\n${result.messages.slice(0, 2000)}`);
  return callId;
}

async function check(c: Case, localIp: string, trunk: { id: string; trusted: boolean }): Promise<void> {
  const callId = await place(localIp, c.headers);
  const record = await cc.recordOf(callId);
  expect(record.trunk).toMatchObject(trunk);
  expect(record.source.address).toBe(localIp);
  expect(record.reservedData).toEqual(c.flags);
  expect(record.callerAttestation).toBe(c.attestation);
  const invite = agentInviteOf(record.call);
  expect(headerOf(invite, 'X-Reserved-Flags')).toBe(c.agentFlags);
  expect(headerOf(invite, 'X-Caller-Attestation')).toBe(c.attestation ?? undefined);
  // None of the caller's headers reaches the agent.
  for (const h of ['X-Reserved-Data', 'X-Reserved-Verified-Customer', 'X-Reserved-Bad-Actor', 'X-Reserved-Repeat-Customer', 'User-to-User', 'X-Filler']) expect(headerOf(invite, h), h).toBeUndefined();
  expect(record.recordings).toHaveLength(1);
  const crm = await delivered(record.recordings[0]!);
  expect(crm.details.callRecord.reservedData).toEqual(c.flags);
  expect(crm.details.callRecord.trunk).toMatchObject(trunk);
}

describe('reserved data from a trusted trunk (127.0.0.2)', () => {
  it.each(TRUSTED.map((c) => [c.name, c] as const))('%s: the flags are set, in the record, the agent leg and the CRM', async (_name, c) => {
    await check(c, '127.0.0.2', { id: 'carrier', trusted: true });
  });
});

describe('reserved data from an untrusted trunk (127.0.0.3)', () => {
  it.each(UNTRUSTED.map((c) => [c.name, c] as const))('%s: no flag is set anywhere', async (_name, c) => {
    await check(c, '127.0.0.3', { id: 'other', trusted: false });
  });
});

describe('set mid-call', () => {
  it("a supervisor's change during the call is what the record and the CRM keep, with who made it", async () => {
    const run = runSipp({
      scenario: 'uac-reserved-data.xml',
      remote: `${cc.udp.host}:${cc.udp.port}`,
      localIp: '127.0.0.2',
      port: await freePort(),
      transport: 'udp',
      calls: 1,
      pauseMs: 4000,
      timeoutSec: 30,
      traceMessages: true,
      extra: ['-key', 'h1', FORMS.single[0]!, '-key', 'h2', 'X-Filler: 2', '-key', 'h3', 'X-Filler: 3', '-rtp_echo', '-mp', String(await freePort())],
    });
    let id: string | undefined;
    await eventually(() => (id = cc.sb.engine.control.list().find((c) => c.state === 'connected')?.id) !== undefined, 20_000, 'the call connected');
    expect(cc.sb.engine.control.reservedData(id!).reservedData).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true });
    cc.sb.engine.control.setReservedData(id!, { reserved_verified_customer: null, reserved_bad_actor: true, reserved_repeat_customer: true }, 'mia');
    const result = await run.done;
    expect(result.stats.successful, describeRun(result)).toBe(1);
    const callId = /^Call-ID:\s*(\S+)/m.exec(result.messages)![1]!;
    const record = await cc.recordOf(callId);
    expect(record.reservedData).toEqual({ reserved_bad_actor: true, reserved_repeat_customer: true });
    expect(record.reservedDataSetBy).toEqual({ reserved_bad_actor: 'api:mia', reserved_repeat_customer: 'header:X-Reserved-Data' });
    const crm = await delivered(record.recordings[0]!);
    expect(crm.details.callRecord.reservedData).toEqual({ reserved_bad_actor: true, reserved_repeat_customer: true });
    await cc.settled();
  });
});

describe('the CRM ticket', () => {
  async function call(localIp: string): Promise<{ details: ReturnType<typeof cc.sb.engine.control.details>; record: CallRecord }> {
    const run = runSipp({
      scenario: 'uac-reserved-data.xml',
      remote: `${cc.udp.host}:${cc.udp.port}`,
      localIp,
      port: await freePort(),
      transport: 'udp',
      calls: 1,
      pauseMs: 4000,
      timeoutSec: 30,
      traceMessages: true,
      extra: ['-key', 'h1', 'X-CRM-Ticket: CASE-42/7', '-key', 'h2', 'X-Filler: 2', '-key', 'h3', 'X-Filler: 3', '-rtp_echo', '-mp', String(await freePort())],
    });
    let id: string | undefined;
    await eventually(() => (id = cc.sb.engine.control.list().find((c) => c.state === 'connected')?.id) !== undefined, 20_000, 'the call connected');
    const details = cc.sb.engine.control.details(id!);
    const result = await run.done;
    expect(result.stats.successful, describeRun(result)).toBe(1);
    const record = await cc.recordOf(/^Call-ID:\s*(\S+)/m.exec(result.messages)![1]!);
    await cc.settled();
    return { details, record };
  }

  it('named by a trusted trunk: in the call details with its link, in the record, and the recording is attached to it', async () => {
    const { details, record } = await call('127.0.0.2');
    expect(details.crmTicket).toEqual({ id: 'CASE-42/7', link: 'https://crm.example/cases/CASE-42%2F7' });
    expect(record.crmTicket).toBe('CASE-42/7');
    const dir = join(cc.dir, 'crm', 'CASE-42_7');
    await eventually(() => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(record.recordings[0]!) && f.endsWith('.wav.json')), 60_000, 'the recording delivered to the ticket');
    const receipt = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.wav.json'))!), 'utf8')) as { ticketId?: string };
    expect(receipt.ticketId).toBe('CASE-42/7');
  });

  it('named by an untrusted source: ignored', async () => {
    const { details, record } = await call('127.0.0.3');
    expect(details.crmTicket).toBeNull();
    expect(record.crmTicket).toBeNull();
    await delivered(record.recordings[0]!);
  });
});

