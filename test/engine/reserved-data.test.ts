/**
 * Reserved data as units: the header lines of a message (RFC 3261 §7.3:
 * repeated, folded, compact), the strict flag grammar, each header form a
 * mapping reads (one flag per header, `name=value;...`, RFC 7433 UUI), the
 * hostile values that must set nothing, STIR/SHAKEN verstat, and what goes
 * out (the agent leg's headers, data parameters) with nothing copied that
 * could carry a line end.
 */
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject } from '../../src/config/load.js';
import { strictBoolean, isSafeHeaderValue, splitOutside } from '../../src/engine/reserved/header-text.js';
import { dataParameters, reservedAgentHeaders } from '../../src/engine/reserved/outward-headers.js';
import { readReservedHeaders } from '../../src/engine/reserved/reserved-headers.js';
import { decodeUui, parseUui } from '../../src/engine/reserved/uui.js';
import { attestationOf } from '../../src/engine/reserved/verstat.js';
import { CallSession } from '../../src/engine/session/call-session.js';
import { headerLines, valuesOf } from '../../src/engine/signaling/header-lines.js';
import type { HeaderMappingConfig } from '../../src/engine/trunks/inbound-trunks.js';
import { silentLogger } from '../../src/observability/logger.js';

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

const config = loadConfigObject(
  {
    reservedData: {
      headerMappings: [
        {
          id: 'all',
          maxHeaderBytes: 128,
          headers: [
            { name: 'X-Reserved-Data', format: 'parameters' },
            { name: 'X-Reserved-Verified-Customer', format: 'boolean', property: 'reserved_verified_customer' },
            { name: 'X-Reserved-Bad-Actor', format: 'boolean', property: 'reserved_bad_actor' },
            { name: 'X-Reserved-Repeat-Customer', format: 'boolean', property: 'reserved_repeat_customer' },
            { name: 'User-to-User', format: 'uui', purpose: 'ccai' },
          ],
        },
      ],
      agentLeg: { flagsHeader: 'X-Reserved-Flags', attestationHeader: 'X-Caller-Attestation', valueHeaders: { reserved_bad_actor: 'X-Bad-Actor' }, passHeaders: ['X-Account'] },
    },
  },
  { checks: configChecks },
);
const mapping: HeaderMappingConfig = config.reservedData.headerMappings[0]!;

/** Reads the mapping from raw header lines ("Name: value"). */
function read(...lines: string[]): ReturnType<typeof readReservedHeaders> {
  const parsed = headerLines(['INVITE sip:1000@x SIP/2.0', ...lines, '', ''].join('\r\n'));
  return readReservedHeaders(mapping, (n) => valuesOf(parsed, n));
}

describe('header lines as received (RFC 3261 §7.3)', () => {
  it('repeated headers stay apart, folded lines are joined, compact forms expanded, names any case, the body ignored', () => {
    const raw = ['INVITE sip:1000@x SIP/2.0', 'X-A: one', 'x-a: two,three', 'X-B: first', '\tsecond', 'f: <sip:a@b>;tag=1', 'Content-Length: 7', '', 'X-A: no'].join('\r\n');
    const lines = headerLines(raw);
    expect(valuesOf(lines, 'X-A')).toEqual(['one', 'two,three']);
    expect(valuesOf(lines, 'x-b')).toEqual(['first second']);
    expect(valuesOf(lines, 'From')).toEqual(['<sip:a@b>;tag=1']);
    expect(valuesOf(lines, 'f')).toEqual(['<sip:a@b>;tag=1']);
    expect(valuesOf(lines, 'X-None')).toEqual([]);
    // Only SP and HTAB are whitespace in SIP: a trailing U+2028 or no-break space is part of the value.
    expect(valuesOf(headerLines('INVITE x SIP/2.0\r\nX-C: true\u2028\r\nX-D: \u00a0no \r\n\r\n'), 'x-c')).toEqual(['true\u2028']);
    expect(valuesOf(headerLines('INVITE x SIP/2.0\r\nX-D: \u00a0no \r\n\r\n'), 'x-d')).toEqual(['\u00a0no']);
  });
});

describe('the flag grammar', () => {
  it('true/false/1/0/yes/no in any case; nothing else', () => {
    for (const t of ['true', 'TRUE', 'True', '1', 'yes', 'YES', ' yes ']) expect(strictBoolean(t), t).toBe(true);
    for (const f of ['false', 'False', '0', 'no', 'NO']) expect(strictBoolean(f), f).toBe(false);
    for (const bad of ['', ' ', 'y', 't', 'on', 'off', '2', '01', 'tru', 'truee', 'true false', 'ｔｒｕｅ', 'trüe', 'truе', 'true\u200b', 'true\u2028', 'true\u0085', 'true\u00a0', '\ufefftrue', '\u3000true', '\u0131yes', 'YES\u0130', '"true"']) {
      expect(strictBoolean(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('values sent on are printable ASCII without surrounding space', () => {
    expect(isSafeHeaderValue('acct-42')).toBe(true);
    for (const bad of ['', ' x', 'x ', 'a\r\nX-Injected: 1', 'a\nb', 'a\u0085b', 'a\u2028b', 'zoë', 'a\u0000', 'x'.repeat(257)]) expect(isSafeHeaderValue(bad), JSON.stringify(bad)).toBe(false);
  });

  it('splitting outside quotes and angle brackets', () => {
    expect(splitOutside('a,"b,c",<sip:x,y>,d', ',')).toEqual(['a', '"b,c"', '<sip:x,y>', 'd']);
  });
});

describe('the header forms a mapping reads', () => {
  it('one header with any subset of name=value pairs, in any order, with spaces around ; and =', () => {
    expect(read('X-Reserved-Data: verified_customer=true;bad_actor=false;repeat_customer=true').values).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true });
    expect(read('X-Reserved-Data: repeat_customer = YES ; verified_customer=0').values).toEqual({ reserved_verified_customer: false, reserved_repeat_customer: true });
    expect(read('x-reserved-data: bad_actor=1').values).toEqual({ reserved_bad_actor: true });
    expect(read('X-Reserved-Data: bad_actor=1').from).toEqual({ reserved_bad_actor: 'X-Reserved-Data' });
  });

  it('a header per property', () => {
    const r = read('X-Reserved-Verified-Customer: yes', 'X-Reserved-Bad-Actor: FALSE', 'X-Reserved-Repeat-Customer: 1');
    expect(r.values).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true });
    expect(r.problems).toEqual([]);
  });

  it('User-to-User (RFC 7433): hex data of the configured purpose, encoding given or not', () => {
    expect(read(`User-to-User: ${hex('verified_customer=true;repeat_customer=true')};encoding=hex;purpose=ccai`).values).toEqual({ reserved_verified_customer: true, reserved_repeat_customer: true });
    expect(read(`User-to-User: ${hex('bad_actor=yes').toUpperCase()};purpose=CCAI`).values).toEqual({ reserved_bad_actor: true });
    // Another package's UUI is not ours: ignored, noted, nothing set.
    const other = read(`User-to-User: ${hex('verified_customer=true')};encoding=hex`, `User-to-User: 0401;purpose=isdn-interwork`);
    expect(other.values).toEqual({});
    expect(other.problems).toEqual([]);
    expect(other.notes.map((n) => n.reason)).toEqual(['no UUI value of purpose ccai']);
    // Several packages in one header (comma-separated), ours among them.
    expect(read(`User-to-User: 0401;purpose=isdn-uui, ${hex('verified_customer=1')};purpose=ccai;content=flags`).values).toEqual({ reserved_verified_customer: true });
  });

  it('RFC 7433 parsing: values, default purpose, quoted data, malformed parameters', () => {
    expect(parseUui(['56a390f3d2b7310023a2;encoding=hex;purpose=foo;content=bar'])).toEqual([{ data: '56a390f3d2b7310023a2', purpose: 'foo', encoding: 'hex', content: 'bar' }]);
    expect(parseUui(['abcd'])).toEqual([{ data: 'abcd', purpose: 'isdn-uui', encoding: undefined, content: undefined }]);
    expect(parseUui(['"a b";purpose=x'])).toEqual([{ data: 'a b', purpose: 'x', encoding: undefined, content: undefined }]);
    expect(parseUui(['ab;purpose=x;purpose=y'])).toMatch(/given twice/);
    expect(parseUui(['ab;=x'])).toMatch(/malformed/);
    expect(decodeUui('0a0', 'hex')).toMatch(/even number/);
    expect(decodeUui('zz', 'hex')).toMatch(/hex digits/);
    expect(decodeUui('abc\u0d0a', 'none')).toMatch(/not printable ASCII/);
  });

  it('an ISDN protocol discriminator octet is skipped when configured (RFC 7434)', () => {
    const m: HeaderMappingConfig = { id: 'd', maxHeaderBytes: 256, headers: [{ name: 'User-to-User', format: 'uui', discriminator: true }] };
    const value = `04${hex('verified_customer=true')};encoding=hex`;
    expect(readReservedHeaders(m, (n) => (n === 'User-to-User' ? [value] : [])).values).toEqual({ reserved_verified_customer: true });
  });

  it('unknown parameter names are ignored and noted; known ones still count', () => {
    const r = read('X-Reserved-Data: verified_customer=true;vip=true');
    expect(r.values).toEqual({ reserved_verified_customer: true });
    expect(r.notes.map((n) => n.reason)).toEqual(['unknown parameter "vip" ignored']);
  });

  it('an unknown parameter is ignored whatever its value, or without one (probe C F14)', () => {
    for (const extra of ['foo=bar', 'foo', 'account=12345', 'foo=', 'note="a;b,c"', 'foo=bar;foo=baz', 'x=\u00e9t\u00e9']) {
      const r = read(`X-Reserved-Data: verified_customer=1;${extra};bad_actor=no`);
      expect(r.problems, extra).toEqual([]);
      expect(r.values, extra).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false });
      expect(r.notes.length, extra).toBeGreaterThan(0);
    }
  });

  it('one empty parameter at the end is tolerated; the known flags keep their strict values', () => {
    expect(read('X-Reserved-Data: verified_customer=yes;').values).toEqual({ reserved_verified_customer: true });
    expect(read('X-Reserved-Data: verified_customer=yes ; ').values).toEqual({ reserved_verified_customer: true });
    expect(read('X-Reserved-Data: verified_customer=yes;foo;').values).toEqual({ reserved_verified_customer: true });
  });
});

/** Hostile INVITE headers: each must set no flag at all, and say why. */
const HOSTILE: readonly { readonly name: string; readonly lines: readonly string[]; readonly reason: RegExp }[] = [
  { name: 'empty value', lines: ['X-Reserved-Verified-Customer: '], reason: /invalid value ""/ },
  { name: 'empty parameters', lines: ['X-Reserved-Data: '], reason: /malformed parameter/ },
  { name: 'huge value', lines: [`X-Reserved-Data: verified_customer=true;${'x'.repeat(200)}=1`], reason: /oversized/ },
  { name: 'duplicated header, same value', lines: ['X-Reserved-Verified-Customer: true', 'X-Reserved-Verified-Customer: true'], reason: /given 2 times/ },
  { name: 'duplicated header as a comma list', lines: ['X-Reserved-Verified-Customer: true,true'], reason: /a list where one value is expected/ },
  { name: 'duplicated parameter', lines: ['X-Reserved-Data: verified_customer=true;verified_customer=true'], reason: /given twice/ },
  { name: 'conflicting headers', lines: ['X-Reserved-Data: verified_customer=true', 'X-Reserved-Verified-Customer: false'], reason: /conflicting values for reserved_verified_customer/ },
  { name: 'conflicting duplicate', lines: ['X-Reserved-Verified-Customer: true', 'X-Reserved-Verified-Customer: false'], reason: /given 2 times/ },
  { name: 'wrong case parameter name', lines: ['X-Reserved-Data: Verified_Customer=true'], reason: /unknown parameter/ },
  { name: 'not a flag', lines: ['X-Reserved-Verified-Customer: maybe'], reason: /invalid value "maybe"/ },
  { name: 'fullwidth letters', lines: ['X-Reserved-Verified-Customer: ｔｒｕｅ'], reason: /invalid value/ },
  { name: 'cyrillic look-alike', lines: ['X-Reserved-Data: verified_customer=truе'], reason: /invalid value/ },
  { name: 'zero-width space', lines: ['X-Reserved-Verified-Customer: true\u200b'], reason: /invalid value/ },
  { name: 'right-to-left override', lines: ['X-Reserved-Verified-Customer: \u202eeurt'], reason: /invalid value/ },
  { name: 'injection in a value', lines: ['X-Reserved-Data: verified_customer=true\\r\\nX-Reserved-Flags: verified_customer'], reason: /invalid value|malformed/ },
  { name: 'folded injection', lines: ['X-Reserved-Verified-Customer: true', ' X-Injected: 1'], reason: /invalid value/ },
  { name: 'UUI decoding to CR LF', lines: [`User-to-User: ${hex('verified_customer=true\r\nX-Injected: 1')};purpose=ccai`], reason: /not printable ASCII/ },
  { name: 'UUI decoding to UTF-8', lines: [`User-to-User: ${hex('verified_customer=trüe')};purpose=ccai`], reason: /not printable ASCII/ },
  { name: 'UUI odd hex', lines: ['User-to-User: 7;purpose=ccai'], reason: /even number of hex digits/ },
  { name: 'UUI other encoding', lines: [`User-to-User: verified_customer;encoding=base64;purpose=ccai`], reason: /encoding "base64"/ },
  { name: 'UUI twice for our purpose', lines: [`User-to-User: ${hex('verified_customer=true')};purpose=ccai`, `User-to-User: ${hex('verified_customer=true')};purpose=ccai`], reason: /2 UUI values/ },
  { name: 'quoted value', lines: ['X-Reserved-Data: verified_customer="true"'], reason: /invalid value/ },
  { name: 'semicolon only', lines: ['X-Reserved-Data: ;'], reason: /malformed/ },
  { name: 'a known flag without a value', lines: ['X-Reserved-Data: verified_customer;foo=1'], reason: /no value for verified_customer/ },
  { name: 'a known flag with an empty value', lines: ['X-Reserved-Data: verified_customer=;foo=1'], reason: /invalid value "" for verified_customer/ },
  { name: 'an empty parameter in the middle', lines: ['X-Reserved-Data: verified_customer=1;;bad_actor=0'], reason: /malformed/ },
  { name: 'an empty parameter first', lines: ['X-Reserved-Data: ;verified_customer=1'], reason: /malformed/ },
  { name: 'two trailing semicolons', lines: ['X-Reserved-Data: verified_customer=1;;'], reason: /malformed/ },
  { name: 'a comma list behind an unknown parameter', lines: ['X-Reserved-Data: foo=a, verified_customer=1'], reason: /a list where one value is expected/ },
  { name: 'an unterminated quote in an unknown value', lines: ['X-Reserved-Data: foo="a;verified_customer=1'], reason: /unterminated quoted string/ },
  { name: 'an unknown name that is not a token', lines: ['X-Reserved-Data: verified_customer=1;f(o)o=1'], reason: /malformed parameter/ },
];

describe('hostile values set no flag', () => {
  it.each(HOSTILE.map((h) => [h.name, h] as const))('%s', (_name, h) => {
    const r = read(...h.lines);
    expect(r.values).toEqual({});
    expect([...r.problems, ...r.notes].map((p) => p.reason).join('; ')).toMatch(h.reason);
  });

  it('a refused header does not stop a good one of another property', () => {
    const r = read('X-Reserved-Bad-Actor: perhaps', 'X-Reserved-Repeat-Customer: yes');
    expect(r.values).toEqual({ reserved_repeat_customer: true });
    expect(r.problems).toEqual([{ header: 'X-Reserved-Bad-Actor', reason: 'invalid value "perhaps"' }]);
  });
});

describe('STIR/SHAKEN verstat (ATIS-1000074)', () => {
  it('from P-Asserted-Identity, else From; in the user part or among the URI parameters; any case', () => {
    expect(attestationOf(['<sip:+15551234567;verstat=TN-Validation-Passed@carrier.example;user=phone>'], []).value).toBe('passed');
    expect(attestationOf(['"Ann" <tel:+15551234567;verstat=tn-validation-failed>'], []).value).toBe('failed');
    expect(attestationOf([], ['<sip:+15551234567@carrier.example;user=phone;verstat=No-TN-Validation>;tag=9']).value).toBe('no-validation');
    expect(attestationOf(['<sip:+1555@c;user=phone>'], ['<sip:+1555;verstat=TN-Validation-Failed@c>;tag=1'])).toMatchObject({ value: 'failed', header: 'From' });
    expect(attestationOf(['<sip:+1555;verstat=TN-Validation-Passed@c>'], ['<sip:+1555;verstat=TN-Validation-Failed@c>;tag=1'])).toMatchObject({ value: 'passed', header: 'P-Asserted-Identity' });
    expect(attestationOf([], ['<sip:+1555@c>;tag=1'])).toEqual({ value: undefined, header: undefined, problem: undefined });
  });

  it('unknown values, disagreeing identities, and a header parameter outside <> give none', () => {
    expect(attestationOf(['<sip:+1555;verstat=TN-Validation-Maybe@c>'], [])).toMatchObject({ value: undefined, problem: expect.stringMatching(/unknown verstat/) });
    expect(attestationOf(['<sip:+1555;verstat=TN-Validation-Passed@c>, <tel:+1555;verstat=TN-Validation-Failed>'], [])).toMatchObject({ value: undefined, problem: expect.stringMatching(/conflicting/) });
    expect(attestationOf([], ['sip:+1555@c;verstat=TN-Validation-Passed']).value).toBeUndefined();
  });
});

function session(): CallSession {
  return new CallSession({
    callId: 'c1@x',
    caller: { number: '+15551230000', name: 'Zoë', withheld: false },
    dialed: '1000',
    source: { address: '127.0.0.2', port: 5060, transport: 'udp' },
    trunk: { id: 'carrier', name: 'Carrier', trusted: true },
    language: 'en',
    logger: silentLogger(),
  });
}

describe('what goes out', () => {
  it('the agent leg: the true flags by short name (absent when none), values, attestation, passed headers', () => {
    const s = session();
    const leg = config.reservedData.agentLeg;
    expect(reservedAgentHeaders(s, leg)).toEqual({});
    s.reserved.apply({ reserved_repeat_customer: true, reserved_verified_customer: true, reserved_bad_actor: false }, 'header:X-Reserved-Data');
    s.callerAttestation = 'passed';
    s.inboundFields.set('x-account', 'acct-42');
    expect(reservedAgentHeaders(s, leg)).toEqual({ 'X-Reserved-Flags': 'verified_customer,repeat_customer', 'X-Bad-Actor': 'false', 'X-Caller-Attestation': 'passed', 'X-Account': 'acct-42' });
    s.reserved.apply({ reserved_verified_customer: null, reserved_repeat_customer: false }, 'api:ann');
    expect(reservedAgentHeaders(s, leg)['X-Reserved-Flags']).toBeUndefined();
  });

  it('data parameters: exactly as configured, values that are unknown or not safe text are left out, nothing when disabled', () => {
    const s = session();
    s.enterQueue('support');
    s.reserved.apply({ reserved_verified_customer: true }, 'header:X');
    s.inboundFields.set('x-account', 'acct-42');
    const settings = loadConfigObject(
      {
        redirection: {
          sip: {
            data_parameters_enabled: true,
            data_parameters: [
              { field: 'X-Verified-Customer', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_verified_customer' },
              { field: 'X-Bad-Actor', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_bad_actor' },
              { field: 'X-Caller', type: 'dynamic', source: 'session_metadata', source_field: 'caller_number' },
              { field: 'X-Caller-Name', type: 'dynamic', source: 'session_metadata', source_field: 'caller_name' },
              { field: 'X-Queue', type: 'dynamic', source: 'session_metadata', source_field: 'queue_name' },
              { field: 'X-Account', type: 'dynamic', source: 'sip_header', source_field: 'X-Account' },
              { field: 'X-Campaign', type: 'static', value: 'spring' },
            ],
          },
        },
      },
      { checks: configChecks },
    ).redirection.sip;
    const out = dataParameters(s, settings, (id) => (id === 'support' ? 'Support' : undefined));
    expect(out.headers).toEqual({ 'X-Verified-Customer': 'true', 'X-Caller': '+15551230000', 'X-Queue': 'Support', 'X-Account': 'acct-42', 'X-Campaign': 'spring' });
    expect(out.skipped.map((x) => x.field)).toEqual(['X-Bad-Actor', 'X-Caller-Name']);
    expect(dataParameters(s, { ...settings, data_parameters_enabled: false }, () => undefined).headers).toEqual({});
  });
});
