/** Numeric header values: CSeq (RFC 3261 §8.1.1.5, §20.16), Max-Forwards (§20.22), Expires (§20.19), Contact expires and q (§20.10), Retry-After (§20.33). */
import { describe, expect, it } from 'vitest';
import { MAX_CSEQ, MAX_DELTA_SECONDS, parseDecimal } from '../../../src/sip-server/message/decimal.js';
import { parseMessage } from '../../../src/sip-server/message/parser.js';
import { parseCSeq } from '../../../src/sip-server/message/sip-message.js';
import { offline, requestBytes, responseBytes } from '../../support/sip-fixtures/builder.js';

const c = offline('num1');

function verdict(buf: Buffer): string {
  const r = parseMessage(buf);
  return r.ok ? 'ok' : r.reason;
}

describe('1*DIGIT values: leading zeros are legal, the limit applies to the value (RFC 3261 §25.1)', () => {
  it.each([
    ['0', 10, 0],
    ['0000', 10, 0],
    ['0068', 255, 68],
    ['255', 255, 255],
    ['256', 255, undefined],
    ['000000000000000000000001', 1, 1],
    ['2147483647', MAX_CSEQ, 2147483647],
    ['2147483648', MAX_CSEQ, undefined],
    ['4294967295', MAX_DELTA_SECONDS, 4294967295],
    ['4294967296', MAX_DELTA_SECONDS, undefined],
    ['36893488147419103232', Number.MAX_SAFE_INTEGER, undefined],
    ['', 10, undefined],
    ['-1', 10, undefined],
    ['+1', 10, undefined],
    ['1 ', 10, undefined],
    ['1.0', 10, undefined],
    ['0x10', 100, undefined],
    ['١', 10, undefined],
  ])('%j with limit %d is %j', (text, max, value) => {
    expect(parseDecimal(text, max)).toBe(value);
  });
});

describe('CSeq = 1*DIGIT LWS Method; the number is below 2**31 (RFC 3261 §8.1.1.5, §20.16)', () => {
  it.each([
    ['1 INVITE', 1, 'INVITE'],
    ['  42   OPTIONS  ', 42, 'OPTIONS'],
    ['7\tBYE', 7, 'BYE'],
    ['0 REGISTER', 0, 'REGISTER'],
    ['0009 INVITE', 9, 'INVITE'],
    ['2147483647 ACK', 2147483647, 'ACK'],
    ['1 x-Custom.method', 1, 'x-Custom.method'],
  ])('%j is %d %s', (value, seq, method) => {
    expect(parseCSeq(value)).toEqual({ seq, method });
  });

  it.each(['2147483648 INVITE', '36893488147419103232 INVITE', '-1 INVITE', 'INVITE', '1', '1INVITE', '1 INVITE BYE', '1 IN,VITE', 'one INVITE'])('%j is refused', (value) => {
    expect(parseCSeq(value)).toBeUndefined();
  });

  it('a request with an out-of-range CSeq says so', () => {
    expect(verdict(requestBytes(c, { cseq: '2147483648 OPTIONS' }))).toBe('CSeq number out of range');
    expect(verdict(requestBytes(c, { cseq: 'x OPTIONS' }))).toBe('malformed CSeq');
  });
});

describe('other scalars in requests (RFC 4475 §3.1.2.4) and responses (§3.1.2.5)', () => {
  it.each([
    ['Max-Forwards', { maxForwards: '0' }, 'ok'],
    ['Max-Forwards', { maxForwards: '0070' }, 'ok'],
    ['Max-Forwards', { maxForwards: '255' }, 'ok'],
    ['Max-Forwards', { maxForwards: '256' }, 'malformed Max-Forwards'],
    ['Max-Forwards', { maxForwards: '' }, 'malformed Max-Forwards'],
    ['Max-Forwards', { maxForwards: '7 0' }, 'malformed Max-Forwards'],
    ['Expires', { extra: ['Expires: 0'] }, 'ok'],
    ['Expires', { extra: ['Expires: 4294967295'] }, 'ok'],
    ['Expires', { extra: ['Expires: 4294967296'] }, 'malformed Expires'],
    ['Expires', { extra: ['Expires: 10000000000000000000'] }, 'malformed Expires'],
    ['Expires', { extra: ['Expires: soon'] }, 'malformed Expires'],
    ['Min-Expires', { extra: ['Min-Expires: 99999999999'] }, 'malformed Min-Expires'],
    ['Contact expires', { contact: '<sip:a@example.org>;expires=3600' }, 'ok'],
    ['Contact expires', { contact: '<sip:a@example.org>;expires=4294967296' }, 'malformed Contact expires'],
    ['Contact expires', { contact: '<sip:a@example.org>;expires' }, 'malformed Contact expires'],
    ['Contact q', { contact: '<sip:a@example.org>;q=1.000, <sip:b@example.org>;q=0.001' }, 'ok'],
    ['Contact q', { contact: '<sip:a@example.org>;q=1.5' }, 'malformed Contact q'],
    ['Contact q', { contact: '<sip:a@example.org>;q=0.0001' }, 'malformed Contact q'],
    ['Contact *', { contact: '*' }, 'ok'],
    ['Contact *', { contact: '*', extra: ['Contact: <sip:a@example.org>'] }, 'malformed Contact'],
  ] as const)('%s: %j gives %s', (_what, spec, want) => {
    expect(verdict(requestBytes(c, spec))).toBe(want);
  });

  it.each([
    ['Retry-After: 120', 'ok'],
    ['Retry-After: 18000;duration=3600', 'ok'],
    ['Retry-After: 120 (I am on a break) ;duration=60', 'ok'],
    ['Retry-After: 949302838503028349304023988', 'malformed Retry-After'],
    ['Retry-After: later', 'malformed Retry-After'],
    ['Warning: 370 gw.example.org "Insufficient bandwidth"', 'ok'],
    ['Warning: 1812 gw.example.org "Four digits"', 'malformed Warning'],
    ['Expires: 99999999999', 'malformed Expires'],
  ])('a response with %s gives %s', (line, want) => {
    expect(verdict(responseBytes(c, { start: 'SIP/2.0 503 Service Unavailable', extra: [line] }))).toBe(want);
  });
});
