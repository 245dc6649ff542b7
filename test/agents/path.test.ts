/**
 * The Path header fields of a REGISTER (RFC 3327 §4), as the registrar reads
 * them: name-addrs that are loose routes (`lr`) to SIP URIs the SIP server
 * can send to, in order; anything else is named in the 400's reason.
 */
import { describe, expect, it } from 'vitest';
import { parsePath } from '../../src/engine/registrar/registrar.js';

describe('Path (RFC 3327)', () => {
  it('keeps every value, in order, across header fields and comma lists, display names and IPv6 included', () => {
    expect(parsePath([])).toEqual([]);
    expect(parsePath(['<sip:edge1.example.com;lr>, "Edge, two" <sip:[2001:db8::1]:5070;lr;received=sip:192.0.2.4%3A5060>', 'Edge <sips:edge3.example.com;lr;ob>'])).toEqual([
      '<sip:edge1.example.com;lr>',
      '"Edge, two" <sip:[2001:db8::1]:5070;lr;received=sip:192.0.2.4%3A5060>',
      'Edge <sips:edge3.example.com;lr;ob>',
    ]);
    expect(parsePath(['"a<b" <sip:edge.example.com;lr>;x=1'])).toEqual(['"a<b" <sip:edge.example.com;lr>;x=1']);
  });

  it('refuses what cannot be routed: a bare URI, a strict route, a quoted parameter, another scheme, too many entries', () => {
    expect(parsePath(['sip:edge.example.com;lr'])).toBe('Path must be a list of SIP URIs in angle brackets');
    expect(parsePath(['<tel:+15550100>'])).toBe('Path must be a list of SIP URIs in angle brackets');
    expect(parsePath(['<sip:edge.example.com>'])).toBe('Path entries must be loose routes (lr)');
    expect(parsePath(['<sip:edge.example.com;lr;received="sip:192.0.2.4:5060">'])).toBe('Path has a URI parameter that is not RFC 3261 syntax');
    expect(parsePath(['<sip:edge.example.com;lr>,'])).toBe('Path must be a list of SIP URIs in angle brackets');
    expect(parsePath([Array.from({ length: 9 }, (_, i) => `<sip:edge${i}.example.com;lr>`).join(', ')])).toBe('Path longer than 8 entries or 2048 characters');
  });
});
