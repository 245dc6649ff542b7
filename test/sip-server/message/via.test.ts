/** Via (RFC 3261 §20.42, §18.2.1, grammar §25.1) with rport (RFC 3581) and IPv6 sent-by (RFC 5118). */
import { describe, expect, it } from 'vitest';
import { MAGIC_COOKIE, formatVia, parseVia, sentByKey } from '../../../src/sip-server/message/via.js';

describe('sent-protocol and sent-by, with the LWS §25.1 allows around "/" and ":"', () => {
  it.each([
    ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa', 'UDP', '192.0.2.1', 5060],
    ['SIP/2.0/tcp host.example.org;branch=z9hG4bKa', 'TCP', 'host.example.org', undefined],
    ['SIP / 2.0 / UDP 192.0.2.1 : 5070 ;branch=z9hG4bKa', 'UDP', '192.0.2.1', 5070],
    ['SIP\t/\t2.0\t/\tTLS\thost.example.org\t:\t5061', 'TLS', 'host.example.org', 5061],
    ['sip/2.0/udp 192.0.2.1', 'UDP', '192.0.2.1', undefined],
    ['SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa', 'UDP', '2001:db8::1', 5060],
    ['SIP/2.0/UDP [2001:db8::1] : 5062', 'UDP', '2001:db8::1', 5062],
    ['SIP/2.0/SCTP sctp.example.org;branch=z9hG4bKa', 'SCTP', 'sctp.example.org', undefined],
    ['SIP/2.0/X-NEW-ONE edge.example.org;branch=z9hG4bKa', 'X-NEW-ONE', 'edge.example.org', undefined],
  ])('%s', (value, transport, host, port) => {
    const v = parseVia(value);
    expect(v).toBeDefined();
    expect({ transport: v!.transport, host: v!.host, port: v!.port }).toEqual({ transport, host, port });
  });

  it.each([
    'SIP/2.0 192.0.2.1',
    'SIP/2.0/UDP',
    'SIP/2.0/UDP ;branch=z9hG4bKa',
    'SIP/3.0/UDP 192.0.2.1',
    'XMPP/2.0/UDP 192.0.2.1',
    'SIP/2.0/UDP 192.0.2.1:99999',
    'SIP/2.0/UDP 2001:db8::1:5060',
    'SIP/2.0/UDP host name.example.org',
    'SIP/2.0/UDP 192.0.2.1;branch',
    'SIP/2.0/UDP 192.0.2.1;branch=',
    'SIP/2.0/UDP 192.0.2.1;;branch=z9hG4bKa',
    'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa junk',
  ])('%s is refused', (value) => {
    expect(parseVia(value)).toBeUndefined();
  });
});

describe('parameters: branch, rport, received, ttl, maddr (§20.42, RFC 3581)', () => {
  it('branch keeps its case and the magic cookie marks RFC 3261 branches (§8.1.1.7)', () => {
    expect(parseVia('SIP/2.0/UDP a.example.org;branch=z9hG4bKAbC')?.branch).toBe('z9hG4bKAbC');
    expect(MAGIC_COOKIE).toBe('z9hG4bK');
    expect(parseVia('SIP/2.0/UDP a.example.org')?.branch).toBeUndefined();
  });

  it('rport may be empty (a request for it) or a port; received is an address (RFC 3581 §4, §20.42)', () => {
    const v = parseVia('SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bKa');
    expect(v?.params.get('rport')).toBeNull();
    const w = parseVia('SIP/2.0/UDP 192.0.2.1;received=198.51.100.7;rport=40123;branch=z9hG4bKa');
    expect(w?.params.get('received')).toBe('198.51.100.7');
    expect(w?.params.get('rport')).toBe('40123');
    expect(parseVia('SIP/2.0/UDP [2001:db8::1];received=2001:db8::9')?.params.get('received')).toBe('2001:db8::9');
    expect(parseVia('SIP/2.0/UDP [2001:db8::1];received=[2001:db8::9]')).toBeDefined();
  });

  it.each([
    ';received=example.org',
    ';received',
    ';rport=0',
    ';rport=70000',
    ';rport=abc',
    ';ttl=256',
    ';ttl',
    ';maddr=224.0.0.1:5060',
    ';maddr',
  ])('"SIP/2.0/UDP 192.0.2.1%s" is refused', (param) => {
    expect(parseVia(`SIP/2.0/UDP 192.0.2.1${param}`)).toBeUndefined();
  });

  it('a parsed Via formats back to an equivalent Via', () => {
    const v = parseVia('SIP / 2.0 / udp 192.0.2.1 : 5070 ; branch = z9hG4bKx ; rport')!;
    const text = formatVia(v);
    expect(text).toBe('SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKx;rport');
    expect(parseVia(text)).toEqual(v);
    expect(formatVia(parseVia('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKy')!)).toBe('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKy');
  });

  it('the sent-by key uses the transport default port when none is written (§18.2.2)', () => {
    expect(sentByKey(parseVia('SIP/2.0/UDP a.example.org')!)).toBe('a.example.org:5060');
    expect(sentByKey(parseVia('SIP/2.0/TLS a.example.org')!)).toBe('a.example.org:5061');
    expect(sentByKey(parseVia('SIP/2.0/TCP a.example.org:7000')!)).toBe('a.example.org:7000');
  });
});
