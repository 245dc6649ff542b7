/**
 * Hostile headers from a trusted trunk, through the real SIP server and
 * engine: empty, huge, duplicated, conflicting, wrong-case, UTF-8 tricks and
 * CR/LF injection attempts in values the configuration copies outward. For
 * every one: the call still connects, no reserved flag is set (record, agent
 * leg), and neither the agent's INVITE nor a phone-number deflection's
 * INVITE to the carrier gateway carries a header that was not configured, or
 * a copied value that is not plain printable text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let agent: AgentPhone;
let gateway: AgentPhone;
let caller: CallerPhone;

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  gateway = await AgentPhone.create(1500);
  caller = await CallerPhone.create(700, 'udp', '127.0.0.2');
  cc = await startContactCenter(
    {
      trunks: {
        unknownSources: 'untrusted',
        inbound: [{ id: 'carrier', trusted: true, headerMapping: 'flags', sources: [{ address: '127.0.0.2' }] }],
        outbound: [{ id: 'gw', host: '127.0.0.1', port: gateway.peer.port }],
      },
      reservedData: {
        headerMappings: [
          {
            id: 'flags',
            maxHeaderBytes: 256,
            headers: [
              { name: 'X-Reserved-Data', format: 'parameters' },
              { name: 'X-Reserved-Verified-Customer', format: 'boolean', property: 'reserved_verified_customer' },
              { name: 'User-to-User', format: 'uui' },
            ],
          },
        ],
        agentLeg: { flagsHeader: 'X-Reserved-Flags', attestationHeader: 'X-Caller-Attestation', passHeaders: ['X-Account'] },
      },
      redirection: {
        sip: {
          data_parameters_enabled: true,
          data_parameters: [
            { field: 'X-Account', type: 'dynamic', source: 'sip_header', source_field: 'X-Account' },
            { field: 'X-Verified-Customer', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_verified_customer' },
            { field: 'X-Caller-Name', type: 'dynamic', source: 'session_metadata', source_field: 'caller_name' },
          ],
        },
      },
      deflection: { calls: { enabled: true, ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } },
      queues: [
        { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
        { id: 'forward', name: 'Forward', numbers: ['5000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } },
      ],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  gateway?.close();
  caller?.close();
});

interface Hostile {
  readonly name: string;
  /** Raw header lines as the caller sends them (CR, LF and all). */
  readonly lines: readonly string[];
  readonly displayName?: string;
  /** X-Account as it may be passed on (undefined: must not be). */
  readonly account?: string;
}

const HOSTILE: readonly Hostile[] = [
  { name: 'empty values', lines: ['X-Reserved-Verified-Customer: ', 'X-Reserved-Data: ', 'X-Account: '] },
  { name: 'a huge header', lines: [`X-Reserved-Data: verified_customer=true;padding=${'x'.repeat(3000)}`, `X-Account: ${'a'.repeat(3000)}`] },
  { name: 'a duplicated header', lines: ['X-Reserved-Verified-Customer: true', 'X-Reserved-Verified-Customer: true', 'X-Account: one', 'X-Account: two'] },
  { name: 'conflicting headers', lines: ['X-Reserved-Data: verified_customer=true', 'X-Reserved-Verified-Customer: false'] },
  { name: 'a conflicting duplicate', lines: ['X-Reserved-Verified-Customer: true', 'X-Reserved-Verified-Customer: false'] },
  { name: 'a comma-joined duplicate', lines: ['X-Reserved-Verified-Customer: true, true'] },
  { name: 'wrong-case parameter names', lines: ['X-Reserved-Data: VERIFIED_CUSTOMER=true;Bad_Actor=true'] },
  { name: 'fullwidth letters', lines: ['X-Reserved-Verified-Customer: ｔｒｕｅ', 'X-Account: ａｃｃｔ'] },
  { name: 'a Cyrillic look-alike', lines: ['X-Reserved-Data: verified_customer=truе'] },
  { name: 'a zero-width space', lines: ['X-Reserved-Verified-Customer: true\u200b', 'X-Account: acct\u200b42'] },
  { name: 'a right-to-left override', lines: ['X-Reserved-Verified-Customer: \u202eeurt', 'X-Account: \u202e24-tcca'] },
  { name: 'Unicode line ends (NEL, LS) in a copied value', lines: ['X-Account: acct\u0085X-Injected: 1', 'X-Reserved-Verified-Customer: true\u2028'] },
  { name: 'a line separator in a display name headed for the agent and a data parameter', lines: [], displayName: 'Zoë\u2028X-Injected: 1' },
  { name: 'UTF-8 in a display name headed for a data parameter', lines: [], displayName: 'Zoë' },
  // A bare LF ends a line (RFC 3261 §7.5 lets receivers accept it): the caller sent two headers, and only the configured one is copied.
  { name: 'a bare LF in a copied value', lines: ['X-Account: acct\nX-Injected: 1', 'X-Reserved-Data: verified_customer=true\nX-Reserved-Data: verified_customer=false'], account: 'acct' },
  { name: 'a folded line carrying a header', lines: ['X-Account: acct', ' X-Injected: 1', 'X-Reserved-Verified-Customer: true', '\tX-Reserved-Flags: verified_customer'], account: 'acct X-Injected: 1' },
  { name: 'escaped CR LF in a copied value', lines: ['X-Account: acct%0D%0AX-Injected:%201', 'X-Reserved-Data: verified_customer=true%0d%0a'], account: 'acct%0D%0AX-Injected:%201' },
  { name: 'UUI decoding to CR LF', lines: [`User-to-User: ${hex('verified_customer=true\r\nX-Injected: 1')};encoding=hex`] },
  { name: 'UUI decoding to UTF-8', lines: [`User-to-User: ${hex('verified_customer=trüe')};encoding=hex`] },
  { name: 'a quoted flag', lines: ['X-Reserved-Data: verified_customer="true"'] },
];

/** Not SIP at all: the SIP server answers 400 before the engine sees them (RFC 3261 §25.1 allows neither in a header). */
const MALFORMED: readonly Hostile[] = [
  { name: 'a bare CR in a copied value', lines: ['X-Account: acct\rX-Injected: 1', 'X-Reserved-Verified-Customer: true\rX-Reserved-Flags: verified_customer'] },
  { name: 'a NUL byte', lines: ['X-Account: acct\u0000X-Injected: 1', 'X-Reserved-Verified-Customer: true\u0000'] },
];

/** Header lines of a raw message, as a receiver would split them (LF, CR and CRLF all end a line here: the strictest view). */
function lineHeaders(raw: string): string[] {
  const head = raw.split(/\r\n\r\n/)[0]!;
  return head.split(/\r\n|\r|\n/).slice(1);
}

function expectClean(raw: string, allowed: readonly string[], account: string | undefined, what: string): void {
  const lines = lineHeaders(raw);
  const names = lines.filter((l) => /^\S/.test(l)).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
  for (const n of names.filter((x) => x.startsWith('x-'))) expect(allowed.map((a) => a.toLowerCase()), `${what}: header ${n}`).toContain(n);
  expect(lines.filter((l) => /^[ \t]/.test(l)), `${what}: folded lines`).toEqual([]);
  // UTF-8 may appear in a display name (RFC 3261 §25.1 quoted-string); control, separator and formatting characters may not.
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  expect(lines.filter((l) => /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/.test(l)), `${what}: control or formatting characters`).toEqual([]);
  for (const l of lines.filter((x) => /^x-/i.test(x))) expect(l, `${what}: an X- header is printable ASCII`).toMatch(/^[\x20-\x7e]+$/);
  const acct = lines.find((l) => /^x-account:/i.test(l));
  expect(acct?.replace(/^x-account:\s*/i, ''), `${what}: X-Account`).toBe(account);
  expect(names, `${what}: no reserved flags`).not.toContain('x-reserved-flags');
}

describe('hostile headers from a trusted trunk', () => {
  it.each(HOSTILE.map((h) => [h.name, h] as const))('%s: no flag, nothing injected, the call connects', async (_name, h) => {
    // To an agent.
    const toAgent = caller.dial(cc.udp, '1000', { extra: h.lines, ...(h.displayName !== undefined ? { displayName: h.displayName } : {}) });
    await toAgent.waitStatus(200, 20_000);
    toAgent.hangUp();
    const record = await cc.recordOf(toAgent.callId);
    expect(record.trunk).toMatchObject({ id: 'carrier', trusted: true });
    expect(record.reservedData).toEqual({});
    const offered = agent.calls.find((c) => c.invite.raw.includes(`X-Switchboard-Call: ${record.call}`));
    expect(offered, 'the agent was called').toBeDefined();
    expectClean(offered!.invite.raw, ['X-Switchboard-Call', 'X-Switchboard-Queue', 'X-Account', 'X-Caller-Attestation'], h.account, 'agent INVITE');

    // Sent on to a phone number: the data parameters copy X-Account and the caller's name.
    const forwarded = caller.dial(cc.udp, '5000', { extra: h.lines, ...(h.displayName !== undefined ? { displayName: h.displayName } : {}) });
    await forwarded.waitStatus(200, 20_000);
    forwarded.hangUp();
    const fr = await cc.recordOf(forwarded.callId);
    expect(fr.reservedData).toEqual({});
    const sent = gateway.calls.find((c) => c.invite.raw.includes(`X-Switchboard-Call: ${fr.call}`));
    expect(sent, 'the gateway was called').toBeDefined();
    expectClean(sent!.invite.raw, ['X-Switchboard-Call', 'X-Switchboard-Queue', 'X-Account', 'X-Caller-Name'], h.account, 'gateway INVITE');
    expect(sent!.invite.raw).not.toMatch(/^X-Verified-Customer:/m);
    if (h.displayName !== undefined) expect(sent!.invite.raw).not.toMatch(/^X-Caller-Name:/m);
  });

  it.each(MALFORMED.map((h) => [h.name, h] as const))('%s: 400 from the SIP server; no agent, no gateway is called', async (_name, h) => {
    const agents = agent.calls.length;
    const gateways = gateway.calls.length;
    const call = caller.dial(cc.udp, '1000', { extra: h.lines });
    expect(await call.waitFinal(20_000)).toBe(400);
    expect(cc.records().some((r) => r.sipCallId === call.callId)).toBe(false);
    expect([agent.calls.length, gateway.calls.length]).toEqual([agents, gateways]);
  });

  it('a clean call from the same trunk does set its flag and pass its account (the checks above can see them)', async () => {
    const call = caller.dial(cc.udp, '5000', { extra: ['X-Reserved-Data: verified_customer=yes', 'X-Account: acct-42'], displayName: 'Ann' });
    await call.waitStatus(200, 20_000);
    call.hangUp();
    const record = await cc.recordOf(call.callId);
    expect(record.reservedData).toEqual({ reserved_verified_customer: true });
    const sent = gateway.calls.find((c) => c.invite.raw.includes(`X-Switchboard-Call: ${record.call}`))!;
    expect(sent.invite.raw).toMatch(/^X-Verified-Customer: true\r$/m);
    expect(sent.invite.raw).toMatch(/^X-Account: acct-42\r$/m);
    expect(sent.invite.raw).toMatch(/^X-Caller-Name: Ann\r$/m);
    await cc.settled();
  });
});
