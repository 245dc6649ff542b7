/** Header fields: folding, compact forms, names, order, repetition and lists (RFC 3261 §7.3). */
import { describe, expect, it } from 'vitest';
import { canonicalName, headerKey } from '../../../src/sip-server/message/header-names.js';
import { parseMessage } from '../../../src/sip-server/message/parser.js';
import { SipHeaders, type SipMessage } from '../../../src/sip-server/message/sip-message.js';
import { offline, requestBytes } from '../../support/sip-fixtures/builder.js';

const c = offline('hdr1');

function parsed(buf: Buffer): SipMessage {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.message;
}

describe('header folding: a line starting with SP or HTAB continues the previous field (RFC 3261 §7.3.1)', () => {
  it.each([
    ['X-A: one\r\n two', 'one two'],
    ['X-A: one\r\n\ttwo', 'one two'],
    ['X-A: one\r\n   \t two  \r\n three', 'one two three'],
    ['X-A:\r\n  only-on-the-next-line', 'only-on-the-next-line'],
    ['X-A: one \r\n two', 'one two'],
  ])('%j unfolds to %j', (line, value) => {
    expect(parsed(requestBytes(c, { extra: [line] })).headers.get('x-a')).toBe(value);
  });

  it('folding works in mandatory headers too: CSeq, Via, From', () => {
    const m = parsed(
      requestBytes(c, {
        cseq: '1\r\n OPTIONS',
        via: `SIP/2.0/UDP\r\n ${c.host}:${c.port}\r\n ;branch=z9hG4bK${c.id}`,
        from: `<sip:robot@example.org>\r\n\t;tag=f${c.id}`,
      }),
    );
    expect(m.headers.get('cseq')).toBe('1 OPTIONS');
    expect(m.headers.get('via')).toBe(`SIP/2.0/UDP ${c.host}:${c.port} ;branch=z9hG4bK${c.id}`);
  });
});

describe('only SP and HTAB are white space around a value (RFC 3261 §25.1 LWS)', () => {
  it.each([
    ['X-A: true\u2028', 'true\u2028'],
    ['X-A: \u00a0true', '\u00a0true'],
    ['X-A: \ufefftrue\u3000', '\ufefftrue\u3000'],
    ['X-A: \t true \t', 'true'],
  ])('%j keeps %j for the app', (line, value) => {
    expect(parsed(requestBytes(c, { extra: [line] })).headers.get('x-a')).toBe(value);
  });
});

describe('compact forms are equivalent to the long names (RFC 3261 §7.3.3, §20)', () => {
  it.each([
    ['i', 'call-id'],
    ['m', 'contact'],
    ['e', 'content-encoding'],
    ['l', 'content-length'],
    ['c', 'content-type'],
    ['f', 'from'],
    ['s', 'subject'],
    ['k', 'supported'],
    ['t', 'to'],
    ['v', 'via'],
    ['o', 'event'],
    ['u', 'allow-events'],
    ['r', 'refer-to'],
    ['b', 'referred-by'],
    ['x', 'session-expires'],
    ['a', 'accept-contact'],
    ['j', 'reject-contact'],
    ['d', 'request-disposition'],
  ])('"%s" is the compact form of %s, in either case', (compact, long) => {
    expect(headerKey(compact)).toBe(long);
    expect(headerKey(compact.toUpperCase())).toBe(long);
  });

  it('a message written entirely in compact forms reads like the long form', () => {
    const long = parsed(requestBytes(c));
    const compactText = requestBytes(c)
      .toString()
      .replace(/^Via:/m, 'v:')
      .replace(/^From:/m, 'f:')
      .replace(/^To:/m, 't:')
      .replace(/^Call-ID:/m, 'i:')
      .replace(/^Contact:/m, 'm:')
      .replace(/^Content-Length:/m, 'l:');
    const compact = parsed(Buffer.from(compactText));
    for (const h of ['via', 'from', 'to', 'call-id', 'contact', 'content-length']) expect(compact.headers.get(h)).toBe(long.headers.get(h));
    // the received spelling is kept for output
    expect(compact.headers.fields.map((f) => f.name).slice(0, 1)).toEqual(['v']);
  });
});

describe('header names are case-insensitive (RFC 3261 §7.3.1)', () => {
  it.each(['CALL-ID', 'call-id', 'Call-Id', 'cAlL-iD'])('%s names the Call-ID', (name) => {
    const m = parsed(requestBytes(c, { callId: null, extra: [`${name}: x-${c.id}`] }));
    expect(m.headers.get('Call-ID')).toBe(`x-${c.id}`);
    expect(m.headers.get('i')).toBe(`x-${c.id}`);
  });

  it('whitespace between a name and its colon is allowed (HCOLON = *( SP / HTAB ) ":" SWS)', () => {
    expect(parsed(requestBytes(c, { extra: ['X-Spaced \t : v'] })).headers.get('x-spaced')).toBe('v');
  });

  it.each([
    ['Call-ID', 'Call-ID'],
    ['call-id', 'Call-ID'],
    ['i', 'Call-ID'],
    ['cseq', 'CSeq'],
    ['www-authenticate', 'WWW-Authenticate'],
    ['x-Custom-thing', 'x-Custom-thing'],
    ['p-charging-vector', 'P-Charging-Vector'],
  ])('a header we write named %s is spelled %s', (name, canonical) => {
    expect(canonicalName(name)).toBe(canonical);
  });
});

describe('order and repetition (RFC 3261 §7.3.1)', () => {
  it('fields keep their received order, including unknown ones and repeated names', () => {
    const m = parsed(requestBytes(c, { extra: ['X-One: 1', 'Route: <sip:a.example.org;lr>', 'X-Two: 2', 'Route: <sip:b.example.org;lr>', 'X-One: 3'] }));
    const names = m.headers.fields.map((f) => f.name);
    expect(names.slice(-6)).toEqual(['X-One', 'Route', 'X-Two', 'Route', 'X-One', 'Content-Length']);
    expect(m.headers.values('x-one')).toEqual(['1', '3']);
    expect(m.headers.get('x-one')).toBe('1');
  });

  it('several fields of a list header equal one comma-joined field', () => {
    const split = parsed(requestBytes(c, { extra: ['Route: <sip:a.example.org;lr>', 'Route: <sip:b.example.org;lr>'] }));
    const joined = parsed(requestBytes(c, { extra: ['Route: <sip:a.example.org;lr>, <sip:b.example.org;lr>'] }));
    expect(split.headers.entries('route')).toEqual(joined.headers.entries('route'));
    expect(joined.headers.entries('route')).toEqual(['<sip:a.example.org;lr>', '<sip:b.example.org;lr>']);
  });
});

describe('comma-separated lists split only at top-level commas (RFC 3261 §7.3.1)', () => {
  it.each([
    ['via', 'SIP/2.0/UDP a.example.org;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK2 ,SIP/2.0/UDP 192.0.2.1', 3],
    ['route', '<sip:a.example.org;lr>,<sip:[2001:db8::2]:5080;lr>', 2],
    ['record-route', '"Edge, West" <sip:edge.example.org;lr>, <sip:core.example.org;lr>', 2],
    ['contact', '"Doe, Jane" <sip:jane@example.org>;q=0.5, "a \\" , b" <sip:b@example.org>, <sip:c@example.org;methods="INVITE,BYE">', 3],
    ['allow', 'INVITE, ACK,CANCEL ,  BYE', 4],
  ])('%s: %s has %i entries', (name, value, n) => {
    const h = new SipHeaders([{ name, key: headerKey(name), value }]);
    expect(h.entries(name)).toHaveLength(n);
  });

  it('quoted display names with commas stay whole', () => {
    const h = new SipHeaders([{ name: 'Contact', key: 'contact', value: '"Doe, Jane" <sip:jane@example.org>, <sip:c@example.org>' }]);
    expect(h.entries('contact')).toEqual(['"Doe, Jane" <sip:jane@example.org>', '<sip:c@example.org>']);
  });

  it('headers that are not lists are never split (Date, Authorization, Subject)', () => {
    const h = new SipHeaders([
      { name: 'Date', key: 'date', value: 'Sat, 13 Nov 2010 23:29:00 GMT' },
      { name: 'Authorization', key: 'authorization', value: 'Digest username="a", realm="b"' },
      { name: 'Subject', key: 'subject', value: 'one, two' },
    ]);
    expect(h.entries('date')).toHaveLength(1);
    expect(h.entries('authorization')).toHaveLength(1);
    expect(h.entries('subject')).toHaveLength(1);
  });
});

describe('editing headers keeps positions (used when the server rewrites a message)', () => {
  it('set replaces the first field in place and removes later copies; absent names are appended canonically', () => {
    const h = new SipHeaders([
      { name: 'v', key: 'via', value: 'SIP/2.0/UDP a;branch=z9hG4bK1' },
      { name: 'X-A', key: 'x-a', value: '1' },
      { name: 'Via', key: 'via', value: 'SIP/2.0/UDP b;branch=z9hG4bK2' },
    ]);
    h.set('Via', 'SIP/2.0/UDP c;branch=z9hG4bK3');
    expect(h.fields.map((f) => `${f.name}=${f.value}`)).toEqual(['v=SIP/2.0/UDP c;branch=z9hG4bK3', 'X-A=1']);
    h.set('i', 'new-call-id');
    expect(h.fields[2]).toEqual({ name: 'Call-ID', key: 'call-id', value: 'new-call-id' });
    h.prepend('via', 'SIP/2.0/TCP d;branch=z9hG4bK4');
    expect(h.fields[0]!.name).toBe('Via');
    h.remove('VIA');
    expect(h.has('via')).toBe(false);
  });

  it('clone copies the fields, so edits to the clone leave the original alone', () => {
    const h = new SipHeaders([{ name: 'X-A', key: 'x-a', value: '1' }]);
    const k = h.clone();
    k.set('x-a', '2');
    expect(h.get('x-a')).toBe('1');
  });
});
