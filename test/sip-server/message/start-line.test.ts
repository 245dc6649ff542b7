/** Start lines (RFC 3261 §7.1 Request-Line, §7.2 Status-Line, §7.5 leading CRLF) and line ends. */
import { describe, expect, it } from 'vitest';
import { parseMessage, type ParseResult } from '../../../src/sip-server/message/parser.js';
import { offline, requestBytes, responseBytes } from '../../support/sip-fixtures/builder.js';

const c = offline('start1');

function request(r: ParseResult): { method: string; uri: string } {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  if (r.message.kind !== 'request') throw new Error('not a request');
  return { method: r.message.method, uri: r.message.uri };
}

function response(r: ParseResult): { status: number; reason: string } {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  if (r.message.kind !== 'response') throw new Error('not a response');
  return { status: r.message.status, reason: r.message.reason };
}

describe('Request-Line = Method SP Request-URI SP SIP-Version CRLF (RFC 3261 §7.1)', () => {
  it.each([
    ['INVITE', 'sip:desk@example.org'],
    ['OPTIONS', 'sips:desk@example.org:5061;transport=tcp'],
    ['REGISTER', 'sip:example.org'],
    ['MESSAGE', 'tel:+15555550123'],
    ['X-CUSTOM.method', 'sip:desk@example.org'],
  ])('%s %s is read as method and Request-URI', (method, uri) => {
    const r = parseMessage(requestBytes(c, { method, uri }));
    expect(request(r)).toEqual({ method, uri });
  });

  it('methods are case-sensitive: "options" is an extension method whose CSeq must say "options" too (§7.1, §20.16)', () => {
    expect(request(parseMessage(requestBytes(c, { method: 'options' }))).method).toBe('options');
    const mismatch = parseMessage(requestBytes(c, { start: 'options sip:desk@example.org SIP/2.0', cseq: '1 OPTIONS' }));
    expect(mismatch.ok).toBe(false);
  });

  it.each([
    ['SIP/2.0', true],
    ['sip/2.0', true],
    ['Sip/2.0', true],
  ])('the version %s is accepted: SIP-Version is case-insensitive (§7.1)', (version, ok) => {
    expect(parseMessage(requestBytes(c, { start: `OPTIONS sip:desk@example.org ${version}` })).ok).toBe(ok);
  });

  it.each([
    ['OPTIONS sip:desk@example.org SIP/3.0', 505],
    ['OPTIONS sip:desk@example.org SIP/1.0', 505],
    ['OPTIONS sip:desk@example.org SIP/20', 400],
    ['OPTIONS sip:desk@example.org HTTP/1.1', 400],
    ['OPTIONS sip:desk@example.org', 400],
    ['OPTIONS', 400],
    ['OPTIONS sip:desk@example.org SIP/2.0 extra', 400],
    ['OPTIONS  sip:desk@example.org SIP/2.0', 400],
  ])('"%s" is refused with %i (§7.1, §21.5.6)', (start, status) => {
    const r = parseMessage(requestBytes(c, { start }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.status).toBe(status);
  });

  it('a start line with no method token that ends in SIP-Version is still a request: 400, answered from its CSeq method (§7, §8.2)', () => {
    for (const start of [' OPTIONS sip:desk@example.org SIP/2.0', '\u00e9t\u00e9 sip:desk@example.org SIP/2.0', 'OPT\x01IONS sip:desk@example.org SIP/2.0', '\x00 sip:x SIP/2.0']) {
      const r = parseMessage(requestBytes(c, { start }));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.status).toBe(400);
        expect(r.request?.method).toBe('OPTIONS');
      }
    }
  });

  it('a start line that is neither a Request-Line nor a Status-Line cannot be told to be a request: nothing to answer (§7)', () => {
    for (const start of ['<html>', 'SIP/2.0', '   ', '\x01\x02']) {
      const r = parseMessage(requestBytes(c, { start }));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.request).toBeUndefined();
    }
  });
});

describe('Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (RFC 3261 §7.2)', () => {
  it.each([
    ['SIP/2.0 100 Trying', 100, 'Trying'],
    ['SIP/2.0 180 Ringing', 180, 'Ringing'],
    ['SIP/2.0 200 OK', 200, 'OK'],
    ['SIP/2.0 486 Busy Here', 486, 'Busy Here'],
    ['SIP/2.0 699 Whatever  with  spaces ', 699, 'Whatever  with  spaces '],
    ['sip/2.0 603 Decline', 603, 'Decline'],
    ['SIP/2.0 200 ', 200, ''],
  ])('"%s" gives %i and its reason phrase verbatim', (start, status, reason) => {
    expect(response(parseMessage(responseBytes(c, { start })))).toEqual({ status, reason });
  });

  it.each([
    'SIP/2.0 099 Low',
    'SIP/2.0 700 High',
    'SIP/2.0 2000 OK',
    'SIP/2.0 20 OK',
    'SIP/2.0 abc OK',
    'SIP/2.0  200 OK',
    'SIP/2.1 200 OK',
    'SIP/2.0200 OK',
  ])('"%s" is refused, and never offered as a request to answer (§7.2, §21)', (start) => {
    const r = parseMessage(responseBytes(c, { start }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.request).toBeUndefined();
  });
});

describe('line ends and what precedes the start line', () => {
  it('CRLFs before the start line are ignored (§7.5)', () => {
    const r = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n\n'), requestBytes(c)]));
    expect(request(r).method).toBe('OPTIONS');
  });

  it('bare LF line ends are accepted, also mixed with CRLF', () => {
    expect(request(parseMessage(requestBytes(c, { eol: '\n' }))).method).toBe('OPTIONS');
    const mixed = requestBytes(c).toString('latin1').replace('\r\nTo:', '\nTo:').replace(/\r\n\r\n$/, '\n\r\n');
    expect(request(parseMessage(Buffer.from(mixed, 'latin1'))).method).toBe('OPTIONS');
  });

  it('a message of only CRLFs is refused as empty, with nothing to answer', () => {
    const r = parseMessage(Buffer.from('\r\n\r\n\r\n\r\n'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.request).toBeUndefined();
  });
});
