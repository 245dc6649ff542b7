/**
 * Valid but strange messages, written for this project after the properties
 * RFC 4475 §3.1.1, §3.2 and §3.3 describe (none of its message texts is
 * reused). Each must parse; the running server must serve each one.
 */
import { callIdOf, defaultVia, requestBytes, responseBytes } from './builder.js';
import { accept, type TortureCase } from './cases.js';

const lines = (...l: string[]): Buffer => Buffer.from(`${l.join('\r\n')}\r\n\r\n`, 'utf8');

const multipartBody = [
  '--sb-boundary-42',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Première partie — café ☎',
  '--sb-boundary-42',
  'Content-Type: application/json',
  '',
  '{"queue":"support","agents":["ana","björn"]}',
  '--sb-boundary-42--',
  '',
].join('\r\n');

const utf8Body = 'Grüße aus dem Kontaktzentrum: 電話 ☎ 🙂\r\n';

export const VALID_CASES: readonly TortureCase[] = [
  {
    name: 'unusual whitespace, folding, mixed-case names, leading zeros and odd but legal values (RFC 3261 §7.3.1, §25.1; RFC 4475 §3.1.1.1)',
    build: (c) =>
      lines(
        'OPTIONS sip:desk@example.org SIP/2.0',
        'tO   :',
        '  "Desk \\"A\\" \\\\ Team"   <sip:desk@example.org>',
        'fRoM:  "Robot"<sip:robot@example.org>',
        '  ;',
        `   tag  =   f${c.id}`,
        'mAx-fOrWaRdS:   0069',
        `call-id  :${callIdOf(c)}`,
        'cseq: 0000007',
        '\tOPTIONS',
        'Via  :  SIP  /   2.0',
        `  / ${c.transport}`,
        `    ${c.host} : ${c.port};   branch  =  z9hG4bK${c.id}  ;rport`,
        'v: SIP/2.0/UDP  proxy-1.example.org ; branch = z9hG4bKsecond , SIP / 2.0 / TCP  [2001:db8::9]:5070;received=2001:db8::9;branch=z9hG4bKthird',
        'Subject:',
        'X-Oddity:   ;;,,;;,;  ',
        'X-Folded: first part',
        ' \t  second part',
        `m: "Fancy \\"Quotes\\"" <sip:robot@${c.host}:${c.port}> ; flag ; q = 0.50`,
        'CSeq-Like-Unknown-Header: 1 INVITE',
        'l:    0',
      ),
    expect: accept(),
    appSees: { header: 'X-Folded', value: 'first part second part' },
  },
  {
    name: 'a wide range of legal characters in method, Request-URI user and password, Call-ID and header names (RFC 3261 §25.1; RFC 4475 §3.1.1.2)',
    build: (c) => {
      const method = "pr0be.-!%*_+`'~X";
      return requestBytes(c, {
        method,
        uri: "sip:a-_.!~*'()&=+$,;?/bc:p&=+$,w-_.!~*'()d@example.org",
        callId: `${c.id}.w%-!*_+\`'~()<>:\\"/[]?{}@robustness.test`,
        to: '"café ☎" <sip:desk@example.org>',
        extra: ["X-ext-!.%*+_`'~: a value with UTF-8 ☎ and symbols <>{}[]"],
      });
    },
    // An extension method neither configured nor routed by an app: valid, so 501 Not Implemented (RFC 3261 §8.2.1), not 400.
    expect: accept(501),
  },
  {
    name: '%-escapes in URI users, parameters and values (RFC 3261 §19.1.2, §25.1; RFC 4475 §3.1.1.3)',
    build: (c) =>
      requestBytes(c, {
        uri: 'sip:agent%3Aone%40example.net@example.org',
        to: '<sip:%64esk@example.org>',
        from: `<sip:robot%20with%20spaces@example.org>;tag=f${c.id}`,
        contact: `<sip:robot%21@${c.host}:${c.port};%6C%72;n%61me=v%61lue%25%41>`,
      }),
    expect: accept(),
  },
  {
    name: 'escaped NUL octets in URIs (RFC 3261 §25.1 escaped; RFC 4475 §3.1.1.4)',
    build: (c) => requestBytes(c, { uri: 'sip:null-%00-user@example.org', to: '<sip:null-%00-user@example.org>', from: `<sip:%00@example.org>;tag=f${c.id}` }),
    expect: accept(),
  },
  {
    name: '"%" that is not an escape in free text and display names (RFC 3261 §25.1 TEXT-UTF8; RFC 4475 §3.1.1.5)',
    build: (c) => requestBytes(c, { from: `"50% Off" <sip:robot@example.org>;tag=f${c.id}`, extra: ['Subject: 100% sure, 50%off, %zz'] }),
    expect: accept(),
    appSees: { header: 'Subject', value: '100% sure, 50%off, %zz' },
  },
  {
    name: 'no LWS between an unquoted display name and "<" (RFC 3261 §25.1 LAQUOT = SWS "<"; RFC 4475 §3.1.1.6)',
    build: (c) => requestBytes(c, { from: `Robot<sip:robot@example.org>;tag=f${c.id}`, to: 'Front Desk<sip:desk@example.org>' }),
    expect: accept(),
  },
  {
    name: 'long values: display name, tag, Call-ID, many Via entries, a long unknown header (RFC 4475 §3.1.1.7)',
    build: (c) => {
      const vias = Array.from({ length: 24 }, (_, i) => `SIP/2.0/UDP relay-${i}.example.org:${5060 + i};branch=z9hG4bKhop${i}${'h'.repeat(40)}`);
      return requestBytes(c, {
        via: [defaultVia(c), ...vias].join(', '),
        to: `"${'Long Name '.repeat(150)}" <sip:desk@example.org>`,
        from: `<sip:robot@example.org>;tag=f${c.id}${'t'.repeat(400)}`,
        callId: `${c.id}${'c'.repeat(600)}@robustness.test`,
        extra: [`X-Long: ${'0123456789abcdef'.repeat(200)}`],
      });
    },
    expect: accept(),
  },
  {
    name: 'a datagram carrying bytes beyond Content-Length: the rest is ignored (RFC 3261 §18.3; RFC 4475 §3.1.1.8)',
    build: (c) => {
      const first = requestBytes(c, { contentLength: '0' });
      const ghost = requestBytes({ ...c, id: `${c.id}ghost` });
      return Buffer.concat([first, ghost]);
    },
    expect: accept(),
    stream: 'skip',
    unseenCallId: (c) => callIdOf({ ...c, id: `${c.id}ghost` }),
  },
  {
    name: 'semicolon-separated parameters in the Request-URI user part (RFC 3261 §25.1 user-unreserved; RFC 4475 §3.1.1.9)',
    build: (c) => requestBytes(c, { uri: 'sip:desk;tgrp=trunk-7;trunk-context=example.net@example.org' }),
    expect: accept(),
  },
  {
    name: 'known and unknown transports in Via (RFC 3261 §20.42 other-transport; RFC 4475 §3.1.1.10)',
    build: (c) =>
      requestBytes(c, {
        via: [
          defaultVia(c),
          'SIP/2.0/SCTP sctp.example.org;branch=z9hG4bKs1',
          'SIP/2.0/TLS-SCTP tlss.example.org;branch=z9hG4bKs2',
          'SIP/2.0/WSS wss.example.org;branch=z9hG4bKs3',
          'SIP/2.0/CARRIER-PIGEON coop.example.org:9;branch=z9hG4bKs4',
        ].join(', '),
      }),
    expect: accept(),
  },
  {
    name: 'a multipart MIME body reaches the app byte for byte (RFC 3261 §7.4; RFC 4475 §3.1.1.11)',
    build: (c) => requestBytes(c, { extra: ['Content-Type: multipart/mixed;boundary=sb-boundary-42'], body: multipartBody }),
    expect: accept(),
    appBody: Buffer.from(multipartBody, 'utf8'),
  },
  {
    name: 'Content-Length counts bytes of a multi-byte UTF-8 body (RFC 3261 §20.14)',
    build: (c) => requestBytes(c, { extra: ['Content-Type: text/plain;charset=utf-8', 'Subject: Grüße ☎'], body: utf8Body }),
    expect: accept(),
    appBody: Buffer.from(utf8Body, 'utf8'),
    appSees: { header: 'Subject', value: 'Grüße ☎' },
  },
  {
    name: 'a well-encoded U+FFFD in a header value is just a character (RFC 3261 §25.1 UTF8-NONASCII)',
    build: (c) => requestBytes(c, { extra: ['Subject: replacement \ufffd character'] }),
    expect: accept(),
    appSees: { header: 'Subject', value: 'replacement \ufffd character' },
  },
  {
    name: 'Content-Length with leading zeros (RFC 3261 §20.14 1*DIGIT)',
    build: (c) => requestBytes(c, { extra: ['Content-Type: text/plain'], body: 'hello', contentLength: '0005' }),
    expect: accept(),
    appBody: Buffer.from('hello'),
  },
  {
    name: 'unreasonable but legal values at the edge of their ranges: CSeq 2**31-1, Expires 2**32-1, Max-Forwards 255, q=0.000 (RFC 3261 §8.1.1.5, §20.19, §20.22, §20.10)',
    build: (c) =>
      requestBytes(c, {
        cseq: '2147483647 OPTIONS',
        maxForwards: '255',
        contact: `<sip:robot@${c.host}:${c.port}>;q=0.000;expires=4294967295`,
        extra: ['Expires: 4294967295', 'Min-Expires: 0000000000000000000000000000001', 'Retry-After: 4294967295'],
      }),
    expect: accept(),
  },
  {
    name: 'Max-Forwards of zero is legal at a UAS (RFC 3261 §20.22; RFC 4475 §3.3.11)',
    build: (c) => requestBytes(c, { maxForwards: '0' }),
    expect: accept(),
  },
  {
    name: 'a Request-URI with an unknown scheme is not a syntax error: 416 (RFC 3261 §8.2.2.1; RFC 4475 §3.3.2, §3.3.3)',
    build: (c) => requestBytes(c, { uri: 'soap.beep://example.org/desk' }),
    expect: accept(416),
  },
  {
    name: 'a tel: Request-URI (RFC 3966) is routed like a SIP one',
    build: (c) => requestBytes(c, { uri: 'tel:+15555550123;phone-context=example.org' }),
    expect: accept(),
  },
  {
    name: 'unknown URI schemes in To, From and Contact (RFC 3261 §20.10 absoluteURI; RFC 4475 §3.3.4)',
    build: (c) =>
      requestBytes(c, { to: '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>', from: `"Mail" <mailto:robot@example.org>;tag=f${c.id}`, contact: '<im:robot@example.org>' }),
    expect: accept(),
  },
  {
    name: 'bare LF line endings throughout (RFC 3261 §7 robustness; accepted from lenient senders)',
    build: (c) => requestBytes(c, { eol: '\n' }),
    expect: accept(),
  },
  {
    name: 'a CRLF before the start line is ignored (RFC 3261 §7.5)',
    build: (c) => Buffer.concat([Buffer.from('\r\n'), requestBytes(c)]),
    expect: accept(),
  },
  {
    name: 'IPv6 references in Request-URI, Via, Contact and Record-Route (RFC 5118; RFC 3261 §25.1 IPv6reference)',
    build: (c) =>
      requestBytes(c, {
        uri: 'sip:desk@[2001:db8::20]:5090',
        via: `${defaultVia(c)}, SIP/2.0/UDP [2001:db8::1]:5060;received=2001:db8::1;branch=z9hG4bKv6`,
        contact: '<sip:robot@[2001:db8::10]:5070;transport=tcp>',
        extra: ['Record-Route: <sip:[2001:db8::2];lr>, <sip:edge.example.org;lr>'],
      }),
    expect: accept(),
  },
  {
    name: 'IPv4-embedded IPv6 references, with the extra colon RFC 5954 §4.1 asks receivers to tolerate (RFC 4475 §3.1.1.12)',
    build: (c) =>
      requestBytes(c, {
        uri: 'sip:desk@[2001:db8:::192.0.2.1]',
        to: '<sip:desk@[2001:db8::192.0.2.1]:5060>',
        via: `${defaultVia(c)}, SIP/2.0/UDP [2001:db8:::192.0.2.2]:5060;branch=z9hG4bKv6x, SIP/2.0/TCP [::ffff:192.0.2.3];branch=z9hG4bKv6y`,
        extra: ['Record-Route: <sip:[2001:db8:::192.0.2.4];lr>'],
      }),
    expect: accept(),
  },
  {
    name: 'compact header forms, upper and lower case (RFC 3261 §7.3.3)',
    build: (c) =>
      Buffer.concat([
        lines(
          'OPTIONS sip:desk@example.org SIP/2.0',
          `v: ${defaultVia(c)}`,
          `F: <sip:robot@example.org>;tag=f${c.id}`,
          't: <sip:desk@example.org>',
          `I: ${callIdOf(c)}`,
          'CSeq: 1 OPTIONS',
          `m: <sip:robot@${c.host}:${c.port}>`,
          's: compact subject',
          'k: timer, 100rel',
          'c: text/plain',
          'L: 4',
        ),
        Buffer.from('ping'),
      ]),
    expect: accept(),
    appSees: { header: 'Subject', value: 'compact subject' },
    appBody: Buffer.from('ping'),
  },
  {
    name: 'the SIP-Version is case-insensitive (RFC 3261 §7.1)',
    build: (c) => requestBytes(c, { start: 'OPTIONS sip:desk@example.org sip/2.0' }),
    expect: accept(),
  },
  {
    name: 'a branch that is only the magic cookie must not break the parser (RFC 4475 §3.2.1)',
    build: (c) => requestBytes(c, { via: `SIP/2.0/${c.transport} ${c.host}:${c.port};branch=z9hG4bK;rport` }),
    expect: accept(),
  },
  {
    name: 'an RFC 2543 branch without the magic cookie (RFC 3261 §17.2.3 backwards matching)',
    build: (c) => requestBytes(c, { via: `SIP/2.0/${c.transport} ${c.host}:${c.port};branch=old${c.id};rport` }),
    expect: accept(),
  },
  {
    name: 'a Date in a non-GMT zone is accepted because the server does not interpret Date (RFC 3261 §20.17; RFC 4475 §3.1.2.12, CHOICE)',
    build: (c) => requestBytes(c, { extra: ['Date: Tue, 09 Mar 2021 14:05:00 PST'] }),
    expect: accept(),
  },
  {
    name: 'Contact list with quoted display names containing commas and semicolons (RFC 3261 §7.3.1, §20.10)',
    build: (c) =>
      requestBytes(c, { contact: '"Doe, Jane" <sip:jane@example.org>, "Roe; Rick" <sip:rick@example.org;transport=tcp>;q=0.5, <sip:[2001:db8::3]:5070>;expires=0' }),
    expect: accept(),
  },
  {
    name: 'quoted-pairs escaping control characters inside a quoted display name (RFC 3261 §25.1 quoted-pair)',
    build: (c) => requestBytes(c, { to: '"Desk \\\x07 bell \\\x7f del" <sip:desk@example.org>' }),
    expect: accept(),
  },
  {
    name: 'Route with several entries, IPv6 and lr (RFC 3261 §20.34)',
    build: (c) => requestBytes(c, { extra: ['Route: <sip:edge.example.org;lr>, <sip:[2001:db8::4]:5080;lr;transport=tcp>', 'Route: <sip:core.example.org;lr>'] }),
    expect: accept(),
  },
  {
    name: 'HTAB as linear white space inside values (RFC 3261 §25.1 LWS)',
    build: (c) => requestBytes(c, { cseq: '1\tOPTIONS', via: `SIP/2.0/${c.transport}\t${c.host}:${c.port}\t;branch=z9hG4bK${c.id};rport` }),
    expect: accept(),
  },
];

/** Valid responses that match no transaction: parsed, then dropped as stray (RFC 3261 §18.1.2). */
export const VALID_RESPONSES: readonly TortureCase[] = [
  {
    name: 'an unusual reason phrase with UTF-8 and symbols (RFC 3261 §25.1 Reason-Phrase; RFC 4475 §3.1.1.12)',
    build: (c) => responseBytes(c, { start: 'SIP/2.0 200 = 2**3 * 5**2 yet not prime: ünïcødé ☎ (really)' }),
    expect: accept(),
  },
  {
    name: 'an empty reason phrase after the SP (RFC 3261 §7.2; RFC 4475 §3.1.1.13)',
    build: (c) => responseBytes(c, { start: 'SIP/2.0 100 ' }),
    expect: accept(),
  },
  {
    name: 'a status line without the SP before an empty reason phrase (CHOICE: accepted)',
    build: (c) => responseBytes(c, { start: 'SIP/2.0 180' }),
    expect: accept(),
  },
  {
    name: 'a response whose second Via names a broadcast address is well-formed (RFC 4475 §3.3.10)',
    build: (c) => responseBytes(c, { via: `SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bKnobody${c.id}, SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKbcast` }),
    expect: accept(),
  },
];
