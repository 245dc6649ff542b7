/**
 * Invalid messages, written for this project after the properties RFC 4475
 * §3.1.2 and §3.3 describe plus further RFC 3261 grammar violations (none of
 * RFC 4475's message texts is reused). Requests are refused with the status
 * named; responses and messages nobody can be answered are dropped.
 */
import { callIdOf, defaultVia, patch, requestBytes, responseBytes } from './builder.js';
import { drop, refuse, type TortureCase } from './cases.js';

export const INVALID_REQUESTS: readonly TortureCase[] = [
  // Extraneous separators (RFC 4475 §3.1.2.1)
  {
    name: 'empty Via parameters and empty list elements (RFC 3261 §20.42 via-parm; RFC 4475 §3.1.2.1)',
    build: (c) => requestBytes(c, { via: `${defaultVia(c)};;,;,,` }),
    expect: refuse(),
  },
  { name: 'an empty parameter in To (RFC 3261 §25.1 to-param; RFC 4475 §3.1.2.1)', build: (c) => requestBytes(c, { to: '<sip:desk@example.org>;;' }), expect: refuse() },
  {
    name: 'an empty element in a Contact list (RFC 3261 §20.10 contact-param *(COMMA contact-param))',
    build: (c) => requestBytes(c, { contact: '<sip:a@example.org>,,<sip:b@example.org>' }),
    expect: refuse(),
  },
  // Content-Length (RFC 3261 §18.3, §20.14)
  {
    name: 'Content-Length larger than the body in a datagram (RFC 3261 §18.3; RFC 4475 §3.1.2.2)',
    build: (c) => requestBytes(c, { extra: ['Content-Type: text/plain'], body: 'short', contentLength: '9999' }),
    expect: refuse(),
    // On a stream the server rightly waits for the promised bytes.
    stream: 'skip',
  },
  {
    name: 'a negative Content-Length (RFC 3261 §20.14 1*DIGIT; RFC 4475 §3.1.2.3)',
    build: (c) => requestBytes(c, { extra: ['Content-Type: text/plain'], body: 'abc', contentLength: '-3' }),
    expect: refuse(),
    stream: { kind: 'refuse', status: 400, closes: true },
  },
  {
    name: 'a Content-Length that is not a number (RFC 3261 §20.14)',
    build: (c) => requestBytes(c, { contentLength: 'zero' }),
    expect: refuse(),
    stream: { kind: 'refuse', status: 400, closes: true },
  },
  // Overlarge scalars (RFC 4475 §3.1.2.4)
  { name: 'a CSeq number of 2**31 (RFC 3261 §8.1.1.5: less than 2**31)', build: (c) => requestBytes(c, { cseq: '2147483648 OPTIONS' }), expect: refuse() },
  { name: 'a CSeq number of 20 digits (RFC 4475 §3.1.2.4)', build: (c) => requestBytes(c, { cseq: '36893488147419103232 OPTIONS' }), expect: refuse() },
  { name: 'Max-Forwards above 255 (RFC 3261 §20.22; RFC 4475 §3.1.2.4)', build: (c) => requestBytes(c, { maxForwards: '256' }), expect: refuse() },
  { name: 'Expires of 2**32 (RFC 3261 §20.19: 0 to 2**32-1; RFC 4475 §3.1.2.4)', build: (c) => requestBytes(c, { extra: ['Expires: 4294967296'] }), expect: refuse() },
  {
    name: 'a Contact expires of 15 digits (RFC 3261 §20.10 delta-seconds; RFC 4475 §3.1.2.4)',
    build: (c) => requestBytes(c, { contact: `<sip:robot@${c.host}:${c.port}>;expires=280297596632815` }),
    expect: refuse(),
  },
  // Display names and addr-specs
  {
    name: 'an unterminated quoted display name (RFC 3261 §25.1 quoted-string; RFC 4475 §3.1.2.6)',
    build: (c) => requestBytes(c, { to: '"Front Desk <sip:desk@example.org>' }),
    expect: refuse(),
  },
  {
    name: 'non-token characters in an unquoted display name (RFC 3261 §25.1 display-name; RFC 4475 §3.1.2.15)',
    build: (c) => requestBytes(c, { from: `Robot, Unit 7 <sip:robot@example.org>;tag=f${c.id}` }),
    expect: refuse(),
  },
  {
    name: 'spaces inside the angle brackets of an addr-spec (RFC 3261 §25.1 LAQUOT addr-spec RAQUOT; RFC 4475 §3.1.2.14)',
    build: (c) => requestBytes(c, { to: '"Desk" < sip:desk@example.org >' }),
    expect: refuse(),
  },
  {
    name: 'an unbracketed Contact addr-spec with "?" (RFC 3261 §20.10; RFC 4475 §3.1.2.13)',
    build: (c) => requestBytes(c, { contact: `sip:robot@${c.host}:${c.port}?Subject=hi` }),
    expect: refuse(),
  },
  {
    name: 'an unbracketed Contact addr-spec with "," in the user part (RFC 3261 §20.10)',
    build: (c) => requestBytes(c, { contact: `sip:ro,bot@${c.host}:${c.port}` }),
    expect: refuse(),
  },
  {
    name: 'an unbracketed Contact addr-spec with ";" in the user part (RFC 3261 §20.10)',
    build: (c) => requestBytes(c, { contact: `sip:robot;unit=7@${c.host}:${c.port}` }),
    expect: refuse(),
  },
  {
    name: 'a Route that is not a name-addr (RFC 3261 §20.34 route-param = name-addr)',
    build: (c) => requestBytes(c, { extra: ['Route: sip:edge.example.org;lr'] }),
    expect: refuse(),
  },
  // Request-Line (RFC 3261 §7.1, §25.1)
  {
    name: 'angle brackets around the Request-URI (RFC 3261 §7.1; RFC 4475 §3.1.2.7)',
    build: (c) => requestBytes(c, { start: 'OPTIONS <sip:desk@example.org> SIP/2.0' }),
    expect: refuse(),
  },
  {
    name: 'LWS inside the Request-URI (RFC 3261 §25.1; RFC 4475 §3.1.2.8)',
    build: (c) => requestBytes(c, { start: 'OPTIONS sip:desk@example.org; transport=udp SIP/2.0' }),
    expect: refuse(),
  },
  {
    name: 'several SP between Request-Line elements (RFC 3261 §7.1 single SP; RFC 4475 §3.1.2.9)',
    build: (c) => requestBytes(c, { start: 'OPTIONS  sip:desk@example.org   SIP/2.0' }),
    expect: refuse(),
  },
  {
    name: 'trailing SP at the end of the Request-Line (RFC 3261 §7.1; RFC 4475 §3.1.2.10)',
    build: (c) => requestBytes(c, { start: 'OPTIONS sip:desk@example.org SIP/2.0  ' }),
    expect: refuse(),
  },
  {
    name: 'HTAB instead of SP in the Request-Line (RFC 3261 §7.1)',
    build: (c) => requestBytes(c, { start: 'OPTIONS\tsip:desk@example.org\tSIP/2.0' }),
    expect: refuse(),
  },
  {
    name: 'escaped headers in the Request-URI (RFC 3261 §19.1.1 table; RFC 4475 §3.1.2.11)',
    build: (c) => requestBytes(c, { uri: 'sip:desk@example.org?Route=%3Csip:evil.example.org%3E' }),
    expect: refuse(),
  },
  { name: 'a Request-URI port beyond 65535 (RFC 3261 §25.1 port)', build: (c) => requestBytes(c, { uri: 'sip:desk@example.org:70000' }), expect: refuse() },
  { name: 'an unclosed IPv6 reference in the Request-URI (RFC 3261 §25.1 IPv6reference)', build: (c) => requestBytes(c, { uri: 'sip:desk@[2001:db8::1' }), expect: refuse() },
  {
    name: 'an unknown SIP version gets 505 (RFC 3261 §7.1, §21.5.6; RFC 4475 §3.1.2.16)',
    build: (c) => requestBytes(c, { start: 'OPTIONS sip:desk@example.org SIP/7.0' }),
    expect: refuse(505),
  },
  {
    name: 'a version that is not SIP-Version syntax (RFC 3261 §25.1 SIP-Version)',
    build: (c) => requestBytes(c, { start: 'OPTIONS sip:desk@example.org SIP/2' }),
    expect: refuse(),
  },
  // CSeq (RFC 3261 §8.1.1.5, §20.16)
  {
    name: 'a CSeq method that does not match the request method (RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.17)',
    build: (c) => requestBytes(c, { method: 'OPTIONS', cseq: '1 INVITE' }),
    expect: refuse(),
  },
  {
    name: 'an unknown method with a mismatched CSeq method (RFC 4475 §3.1.2.18)',
    build: (c) => requestBytes(c, { method: 'SNOOZE', cseq: '1 OPTIONS' }),
    expect: refuse(),
  },
  { name: 'a CSeq without a method (RFC 3261 §20.16)', build: (c) => requestBytes(c, { cseq: '12' }), expect: refuse() },
  // Mandatory headers (RFC 3261 §8.1.1; RFC 4475 §3.3.1)
  { name: 'no To (RFC 3261 §8.1.1)', build: (c) => requestBytes(c, { to: null }), expect: refuse() },
  { name: 'no From (RFC 3261 §8.1.1)', build: (c) => requestBytes(c, { from: null }), expect: refuse() },
  { name: 'no Call-ID (RFC 3261 §8.1.1)', build: (c) => requestBytes(c, { callId: null }), expect: refuse() },
  { name: 'no CSeq (RFC 3261 §8.1.1)', build: (c) => requestBytes(c, { cseq: null }), expect: refuse() },
  { name: 'no Call-ID, From or To at once (RFC 4475 §3.3.1)', build: (c) => requestBytes(c, { callId: null, from: null, to: null }), expect: refuse() },
  // Without a Via there is nowhere to send a response (RFC 3261 §18.2.2): dropped.
  { name: 'no Via: nothing to answer to (RFC 3261 §8.1.1.7, §18.2.2)', build: (c) => requestBytes(c, { via: null }), expect: drop },
  // Duplicated single-value headers (RFC 3261 §7.3.1; RFC 4475 §3.3.8, §3.3.9)
  { name: 'two Call-ID headers (RFC 4475 §3.3.8)', build: (c) => requestBytes(c, { extra: [`Call-ID: other${callIdOf(c)}`] }), expect: refuse() },
  { name: 'two CSeq headers (RFC 4475 §3.3.8)', build: (c) => requestBytes(c, { extra: ['CSeq: 2 OPTIONS'] }), expect: refuse() },
  { name: 'two From headers (RFC 4475 §3.3.8)', build: (c) => requestBytes(c, { extra: [`From: <sip:other@example.org>;tag=o${c.id}`] }), expect: refuse() },
  { name: 'two To headers (RFC 4475 §3.3.8)', build: (c) => requestBytes(c, { extra: ['To: <sip:other@example.org>'] }), expect: refuse() },
  { name: 'two Max-Forwards headers (RFC 4475 §3.3.8)', build: (c) => requestBytes(c, { extra: ['Max-Forwards: 69'] }), expect: refuse() },
  {
    name: 'Content-Length twice, long and compact form (RFC 4475 §3.3.9)',
    build: (c) => requestBytes(c, { extra: ['l: 0'] }),
    expect: refuse(),
    // On a stream two lengths make framing ambiguous: refused and the connection closed.
    stream: { kind: 'refuse', status: 400, closes: true },
  },
  { name: 'a Call-ID split across two headers with the compact form (RFC 3261 §7.3.3)', build: (c) => requestBytes(c, { extra: [`i: x${callIdOf(c)}`] }), expect: refuse() },
  // Tags (RFC 3261 §8.1.1.3)
  { name: 'no From tag (RFC 3261 §8.1.1.3)', build: (c) => requestBytes(c, { from: '<sip:robot@example.org>' }), expect: refuse() },
  { name: 'a From tag without a value (RFC 3261 §25.1 tag-param)', build: (c) => requestBytes(c, { from: '<sip:robot@example.org>;tag' }), expect: refuse() },
  // Header syntax (RFC 3261 §7.3, §25.1)
  { name: 'a header line without a colon (RFC 3261 §7.3.1)', build: (c) => requestBytes(c, { extra: ['This line has no colon'] }), expect: refuse() },
  { name: 'a header name with a non-token character (RFC 3261 §25.1 header-name)', build: (c) => requestBytes(c, { extra: ['X-Bad[Name]: 1'] }), expect: refuse() },
  {
    name: 'a continuation line right after the start line (RFC 3261 §7.3.1)',
    build: (c) => patch(requestBytes(c), 'SIP/2.0\r\n', 'SIP/2.0\r\n  continued\r\n'),
    expect: refuse(),
  },
  { name: 'a bare CR inside a header value (RFC 3261 §25.1)', build: (c) => requestBytes(c, { extra: ['Subject: one\rtwo'] }), expect: refuse() },
  { name: 'a NUL octet outside a quoted-pair (RFC 3261 §25.1 TEXT-UTF8char)', build: (c) => requestBytes(c, { extra: ['Subject: nul\x00here'] }), expect: refuse() },
  // A response would have to echo the control character (RFC 3261 §8.2.6.2): dropped instead.
  { name: 'a control character inside the Call-ID: no valid response can echo it', build: (c) => requestBytes(c, { callId: `${c.id}\x01@robustness.test` }), expect: drop },
  {
    name: 'an invalid UTF-8 sequence in a header value (RFC 3261 §25.1 TEXT-UTF8char)',
    build: (c) => patch(requestBytes(c, { extra: ['Subject: caf\u00e9'] }), 'caf\u00c3\u00a9', 'caf\u00e9\u00ff'),
    expect: refuse(),
  },
  // A response copies Via, From, To, Call-ID and CSeq byte for byte (RFC 3261 §8.2.6.2), so undecodable bytes there
  // do not stop the 400: it carries them back exactly (checked by the tests against the running server).
  {
    name: 'an invalid UTF-8 sequence in the Call-ID: 400 echoing the bytes exactly (RFC 3261 §8.2.6.2)',
    build: (c) => patch(requestBytes(c), '@robustness.test', '@robust\u00c3ness.test'),
    expect: refuse(),
  },
  {
    name: 'a Latin-1 display name in From (invalid UTF-8): 400 echoing the bytes exactly',
    build: (c) => patch(requestBytes(c), 'From: ', 'From: "Jos\u00e9 Mar\u00eda" '),
    expect: refuse(),
  },
  {
    name: 'an invalid UTF-8 sequence in a Via parameter: 400 echoing the bytes exactly',
    build: (c) => patch(requestBytes(c), ';branch=', ';x-site=M\u00fcnchen;branch='),
    expect: refuse(),
  },
  {
    name: 'an invalid UTF-8 sequence in the To URI and the CSeq line: 400 echoing the bytes exactly',
    build: (c) => patch(patch(requestBytes(c), 'To: <sip:', 'To: <sip:\u00ff'), 'CSeq: ', 'CSeq:\u00a0'),
    expect: refuse(),
  },
  { name: 'whitespace inside the Call-ID (RFC 3261 §25.1 callid)', build: (c) => requestBytes(c, { callId: `${c.id} @robustness.test` }), expect: refuse() },
  { name: 'a Via without sent-by (RFC 3261 §20.42)', build: (c) => requestBytes(c, { via: `SIP/2.0/${c.transport};branch=z9hG4bK${c.id}` }), expect: refuse() },
  { name: 'a Via sent-protocol missing its transport (RFC 3261 §20.42)', build: (c) => requestBytes(c, { via: `SIP/2.0 ${c.host}:${c.port};branch=z9hG4bK${c.id}` }), expect: refuse() },
  { name: 'a Via received that is not an address (RFC 3261 §20.42 via-received)', build: (c) => requestBytes(c, { via: `${defaultVia(c)};received=nowhere` }), expect: refuse() },
  { name: 'a Max-Forwards that is not a number (RFC 3261 §20.22)', build: (c) => requestBytes(c, { maxForwards: 'seventy' }), expect: refuse() },
  {
    name: 'no empty line after the header section of a datagram (RFC 3261 §7)',
    build: (c) => requestBytes(c).subarray(0, -2),
    expect: refuse(),
    // On a stream the server waits for the rest of the header section.
    stream: 'skip',
  },
  {
    name: 'no Content-Length on a stream (RFC 3261 §18.3, §20.14)',
    build: (c) => requestBytes(c, { contentLength: null }),
    // In a datagram Content-Length is optional.
    expect: { kind: 'accept' },
    stream: { kind: 'refuse', status: 400, closes: true },
  },
  // A start line that ends in SIP-Version is a request, however broken its method: answered (RFC 3261 §8.2).
  { name: 'a Request-Line starting with a space (RFC 3261 §7.1)', build: (c) => patch(requestBytes(c), 'OPTIONS ', ' OPTIONS '), expect: refuse() },
  { name: 'a control character inside the method (RFC 3261 §25.1 token)', build: (c) => patch(requestBytes(c), 'OPTIONS ', 'OPT\x01IONS '), expect: refuse() },
  { name: 'a NUL and DEL as the method (RFC 3261 §25.1 token)', build: (c) => patch(requestBytes(c), 'OPTIONS ', '\x00\x7f '), expect: refuse() },
  { name: 'a method of invalid UTF-8 (RFC 3261 §25.1 token)', build: (c) => patch(requestBytes(c), 'OPTIONS ', '\u00ffOPTIONS '), expect: refuse() },
  {
    name: 'an unreadable method whose CSeq says ACK is dropped, never answered (RFC 3261 §17.2.1)',
    build: (c) => patch(requestBytes(c, { method: 'ACK', to: `<sip:desk@example.org>;tag=t${c.id}` }), 'ACK ', 'A\x02CK '),
    expect: drop,
  },
  // Nothing recognisable as a request, or an ACK: never answered (RFC 3261 §17.1.1.3 ACK gets no response).
  { name: 'an HTTP request sent to the SIP port', build: () => Buffer.from('GET / HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0\r\n\r\n'), expect: drop },
  {
    name: 'a malformed ACK is dropped, never answered (RFC 3261 §17.2.1)',
    build: (c) => requestBytes(c, { method: 'ACK', to: `<sip:desk@example.org>;tag=t${c.id}`, cseq: '1 OPTIONS' }),
    expect: drop,
  },
];

/** Malformed responses: always dropped (RFC 4475 §3.1.2.5, §3.1.2.19), counted as malformed rather than stray. */
export const INVALID_RESPONSES: readonly TortureCase[] = [
  { name: 'a response code of ten digits (RFC 3261 §7.2 3DIGIT; RFC 4475 §3.1.2.19)', build: (c) => responseBytes(c, { start: 'SIP/2.0 4294967301 Too Big' }), expect: drop },
  { name: 'a response code above 699 (RFC 3261 §21; RFC 4475 §3.1.2.19)', build: (c) => responseBytes(c, { start: 'SIP/2.0 700 Beyond' }), expect: drop },
  { name: 'a response code of two digits (RFC 3261 §7.2)', build: (c) => responseBytes(c, { start: 'SIP/2.0 20 OK' }), expect: drop },
  { name: 'a response with an unknown SIP version (RFC 3261 §7.2)', build: (c) => responseBytes(c, { start: 'SIP/3.0 200 OK' }), expect: drop },
  {
    name: 'a response with overlarge scalars: Retry-After and a 4-digit warn-code (RFC 3261 §20.33, §20.43; RFC 4475 §3.1.2.5)',
    build: (c) => responseBytes(c, { start: 'SIP/2.0 503 Service Unavailable', extra: ['Retry-After: 949302838503028349304023988', 'Warning: 1812 overloaded.example.org "busy"'] }),
    expect: drop,
  },
  { name: 'a response with a CSeq of 2**31 or more (RFC 3261 §8.1.1.5)', build: (c) => responseBytes(c, { cseq: '4294967296 OPTIONS' }), expect: drop },
  { name: 'a response without a Call-ID (RFC 3261 §8.1.1)', build: (c) => responseBytes(c, { callId: null }), expect: drop },
  {
    name: 'a response whose Content-Length exceeds its body (RFC 3261 §18.3)',
    build: (c) => responseBytes(c, { body: 'abc', contentLength: '10' }),
    expect: drop,
    stream: 'skip',
  },
];
