/** SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1), IPv6 references (RFC 5118), other schemes kept opaque. */
import { describe, expect, it } from 'vitest';
import { formatSipUri, isIpLiteral, parseHostPort, parseSipUri, parseUri, uriTransport } from '../../../src/sip-server/message/uri.js';

describe('SIP-URI components (RFC 3261 §19.1.1)', () => {
  it.each([
    ['sip:desk@example.org', { user: 'desk', host: 'example.org', port: undefined }],
    ['sips:desk@example.org:5061', { user: 'desk', host: 'example.org', port: 5061 }],
    ['sip:example.org', { user: undefined, host: 'example.org', port: undefined }],
    ['sip:desk@192.0.2.7:5070', { user: 'desk', host: '192.0.2.7', port: 5070 }],
    ['sip:desk@[2001:db8::7]', { user: 'desk', host: '2001:db8::7', port: undefined }],
    ['sip:desk@[2001:db8::7]:5070', { user: 'desk', host: '2001:db8::7', port: 5070 }],
    ['sip:[::1]:5060', { user: undefined, host: '::1', port: 5060 }],
    ['sip:[::ffff:192.0.2.1]', { user: undefined, host: '::ffff:192.0.2.1', port: undefined }],
    ['SIP:Desk@EXAMPLE.org', { user: 'Desk', host: 'example.org', port: undefined }],
    ['sip:desk@example.org.', { user: 'desk', host: 'example.org.', port: undefined }],
    ['sip:+15555550123@gw.example.org;user=phone', { user: '+15555550123', host: 'gw.example.org', port: undefined }],
  ])('%s', (text, want) => {
    const u = parseSipUri(text);
    expect(u).toBeDefined();
    expect({ user: u!.user, host: u!.host, port: u!.port }).toEqual(want);
  });

  it('the user part keeps its %-escapes and may hold ";", "?", "/" and other user-unreserved characters (§25.1 user)', () => {
    const u = parseSipUri('sip:a%20b;phone-context=x?y/z&w=1+2$,@example.org');
    expect(u?.user).toBe('a%20b;phone-context=x?y/z&w=1+2$,');
    expect(u?.host).toBe('example.org');
    expect(u?.params.size).toBe(0);
    expect(u?.headers).toBeUndefined();
  });

  it('a password follows the first colon of userinfo (§19.1.1; deprecated but legal)', () => {
    const u = parseSipUri("sip:desk:s3cr%65t&=+$,-_.!~*'()@example.org");
    expect(u?.user).toBe('desk');
    expect(u?.password).toBe("s3cr%65t&=+$,-_.!~*'()");
  });

  it('URI parameters keep their order; names are lower-cased, flags map to null, first copy wins (§19.1.1, §19.1.4)', () => {
    const u = parseSipUri('sip:desk@example.org;Transport=TCP;lr;maddr=[2001:db8::1];x-%41=v%41;lr=again');
    expect([...u!.params]).toEqual([
      ['transport', 'TCP'],
      ['lr', null],
      ['maddr', '[2001:db8::1]'],
      ['x-%41', 'v%41'],
    ]);
    expect(uriTransport(u!)).toBe('tcp');
  });

  it('the headers part after "?" is kept (§19.1.1), but a "?" in the user part is not a headers part', () => {
    expect(parseSipUri('sip:desk@example.org?Subject=hi&Priority=urgent')?.headers).toBe('Subject=hi&Priority=urgent');
    expect(parseSipUri('sip:a?b@example.org')?.headers).toBeUndefined();
  });

  it.each([
    'sip:',
    'sip:@example.org',
    'sip:desk@',
    'sip:desk@exa mple.org',
    'sip:desk@example.org:',
    'sip:desk@example.org:65536',
    'sip:desk@example.org:-1',
    'sip:desk@[2001:db8::1',
    'sip:desk@[not-an-address]',
    'sip:desk@2001:db8::1',
    'sip:desk@256.1.1.1',
    'sip:desk@1.2.3',
    'sip:desk@-example.org',
    'sip:desk@exa_mple.org',
    'sip:de"sk@example.org',
    'sip:de<sk@example.org',
    'sip:de%zzsk@example.org',
    'sip:desk@example.org;;lr',
    'sip:desk@example.org;=x',
    'sip:caf\u00e9@example.org',
  ])('%s is refused (§25.1)', (text) => {
    expect(parseSipUri(text)).toBeUndefined();
  });

  it('formatting gives back the text for canonical input (round trip)', () => {
    for (const t of ['sip:desk@example.org', 'sips:a:b@[2001:db8::1]:5061;transport=tls;lr?x=1', 'sip:192.0.2.1:5070;maddr=192.0.2.2']) {
      expect(formatSipUri(parseSipUri(t)!)).toBe(t);
    }
  });

  it('the transport a URI asks for: explicit parameter, or TLS for sips (RFC 3263 §4.1)', () => {
    expect(uriTransport(parseSipUri('sip:a@example.org')!)).toBe('udp');
    expect(uriTransport(parseSipUri('sip:a@example.org;transport=tcp')!)).toBe('tcp');
    expect(uriTransport(parseSipUri('sips:a@example.org')!)).toBe('tls');
  });
});

describe('other schemes are absolute URIs kept opaque (RFC 3261 §19.1, §8.2.2.1: 416 is a decision, not a parse error)', () => {
  it.each(['tel:+15555550123;phone-context=example.org', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'mailto:desk@example.org', 'soap.beep://example.org/x', 'x-custom:anything%20goes'])(
    '%s',
    (text) => {
      const p = parseUri(text);
      expect(p?.kind).toBe('other');
      if (p?.kind === 'other') {
        expect(p.text).toBe(text);
        expect(p.scheme).toBe(text.slice(0, text.indexOf(':')).toLowerCase());
      }
    },
  );

  it.each(['', ':x', '1tel:+1', 'tel:', 'tel:+1 555', 'tel:<+1>', 'no-colon'])('"%s" is not an absolute URI', (text) => {
    expect(parseUri(text)).toBeUndefined();
  });
});

describe('hosts and ports (RFC 3261 §25.1 hostport)', () => {
  it.each([
    ['example.org', 'example.org', undefined],
    ['Example.ORG:5060', 'example.org', 5060],
    ['192.0.2.1:0', '192.0.2.1', 0],
    ['[2001:DB8::1]:65535', '2001:db8::1', 65535],
    ['[2001:db8::192.0.2.1]', '2001:db8::192.0.2.1', undefined],
    // RFC 5954 §4.1: the extra colon RFC 3261's ABNF allowed is tolerated, read as the address it means.
    ['[2001:db8:::192.0.2.1]:5060', '2001:db8::192.0.2.1', 5060],
    ['[:::192.0.2.1]', '::192.0.2.1', undefined],
  ])('%s', (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ host, port });
  });

  it.each(['[2001:db8::::192.0.2.1]', '[2001:db8:::1]', '[2001:db8:::192.0.2]'])('%s is not an IPv6 reference, even with the RFC 5954 tolerance', (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });

  it('IP literals are recognised for v4 and v6', () => {
    expect(isIpLiteral('192.0.2.1')).toBe(true);
    expect(isIpLiteral('2001:db8::1')).toBe(true);
    expect(isIpLiteral('300.0.0.1')).toBe(false);
    expect(isIpLiteral('example.org')).toBe(false);
  });
});
