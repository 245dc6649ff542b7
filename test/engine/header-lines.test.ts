/** Header fields read from the raw message (RFC 3261 §7.3): repeated, compact, folded. */
import { describe, expect, it } from 'vitest';
import { headerLines, valuesOf } from '../../src/engine/signaling/header-lines.js';

const headerFields = (raw: string, name: string): string[] => valuesOf(headerLines(raw), name);

describe('headerLines', () => {
  const raw = [
    'REGISTER sip:example.com SIP/2.0',
    'Authorization: Digest username="a", realm="one",',
    ' nonce="n1", uri="sip:example.com", response="00"',
    'authorization: Digest username="a", realm="two", nonce="n2", uri="sip:example.com", response="00"',
    'm: <sip:a@192.0.2.1>;expires=60, <sip:a@192.0.2.2>',
    'Contact: <sip:a@192.0.2.3>',
    'Expires : 30',
    '',
    'Contact: not a header, the body',
  ].join('\r\n');

  it('keeps each Authorization field whole (never combined) and joins folded lines', () => {
    expect(headerFields(raw, 'Authorization')).toEqual(['Digest username="a", realm="one", nonce="n1", uri="sip:example.com", response="00"', 'Digest username="a", realm="two", nonce="n2", uri="sip:example.com", response="00"']);
  });

  it('reads compact forms, any case, spaces before the colon, and stops at the body', () => {
    expect(headerFields(raw, 'contact')).toEqual(['<sip:a@192.0.2.1>;expires=60, <sip:a@192.0.2.2>', '<sip:a@192.0.2.3>']);
    expect(headerFields(raw, 'EXPIRES')).toEqual(['30']);
    expect(headerFields(raw, 'Call-ID')).toEqual([]);
  });
});
