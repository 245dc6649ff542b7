/**
 * Media types (RFC 3261 §20.15, §20.1 with RFC 2045 §5.1 case rules) and
 * multipart bodies (RFC 2046 §5.1.1 as RFC 5621 uses them), as the UAS core
 * reads them to decide 415 and 406.
 */
import { describe, expect, it } from 'vitest';
import { accepts, contentCodings, parseMediaType } from '../../../src/sip-server/message/media-type.js';
import { parseMultipart } from '../../../src/sip-server/message/multipart.js';

describe('Content-Type', () => {
  it.each([
    ['application/sdp', 'application/sdp', {}],
    ['Application/SDP', 'application/sdp', {}],
    ['application / sdp', 'application/sdp', {}],
    ['multipart/mixed;boundary=unique-boundary-1', 'multipart/mixed', { boundary: 'unique-boundary-1' }],
    ['multipart/mixed ; Boundary="a b;c"', 'multipart/mixed', { boundary: 'a b;c' }],
    ['application/ISUP;version=itu-t92+;base=itu-t92+', 'application/isup', { version: 'itu-t92+', base: 'itu-t92+' }],
  ])('%s is %s with its parameters', (text, essence, params) => {
    const mt = parseMediaType(text);
    expect(mt?.essence).toBe(essence);
    expect(Object.fromEntries(mt?.params ?? [])).toEqual(params);
  });

  it.each(['application', 'application/', '/sdp', 'application/sdp;', 'application/sdp;charset', 'text/plain;a="unterminated', 'a b/c'])('%s is not a media type', (text) => {
    expect(parseMediaType(text)).toBeUndefined();
  });
});

describe('Accept', () => {
  it.each([
    [['application/sdp'], true],
    [['text/plain, application/sdp;q=0.5'], true],
    [['application/*'], true],
    [['*/*'], true],
    [['text/html', 'application/sdp'], true],
    [['text/html'], false],
    [['application/sdp;q=0'], false],
    [['application/sdp;q=0.000'], false],
    [['*/*, application/sdp;q=0'], false],
    [['application/*;q=0, application/sdp'], true],
    [[''], false],
  ])('%j accepts application/sdp: %s', (values, want) => {
    expect(accepts(values, 'application/sdp')).toBe(want);
  });

  it('Content-Encoding: only codings other than identity count', () => {
    expect(contentCodings(['identity'])).toEqual([]);
    expect(contentCodings(['gzip, identity', 'deflate'])).toEqual(['gzip', 'deflate']);
  });
});

describe('multipart bodies', () => {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const isup = Buffer.from([0x01, 0x00, 0x49, 0x00, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff]);

  it('parts with their headers and exact content; preamble and epilogue ignored; binary content kept', () => {
    const body = Buffer.concat([
      Buffer.from(`preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b1\r\nContent-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n`, 'latin1'),
      isup,
      Buffer.from('\r\n--b1--\r\nepilogue', 'latin1'),
    ]);
    const parts = parseMultipart(body, 'b1')!;
    expect(parts.map((p) => p.type.essence)).toEqual(['application/sdp', 'application/isup']);
    expect(parts[0]!.content.toString('latin1')).toBe(sdp);
    expect(parts[1]!.content.equals(isup)).toBe(true);
    expect(parts[1]!.headers.get('content-disposition')).toBe('signal;handling=optional');
  });

  it('a part without Content-Type is text/plain (RFC 2046 §5.1); bare LF line ends are read', () => {
    const parts = parseMultipart(Buffer.from('--x\n\nhello\n--x\nContent-Type: application/sdp\n\nv=0\n--x--\n'), 'x')!;
    expect(parts.map((p) => p.type.essence)).toEqual(['text/plain', 'application/sdp']);
    expect(parts[0]!.content.toString()).toBe('hello');
  });

  it('the boundary only counts at the start of a line', () => {
    const parts = parseMultipart(Buffer.from('--q\r\nContent-Type: text/plain\r\n\r\nnot --q here\r\n--q--\r\n'), 'q')!;
    expect(parts.map((p) => p.content.toString())).toEqual(['not --q here']);
  });

  it.each([
    ['no delimiter at all', 'just text', 'b'],
    ['no closing part after the first delimiter', '--b\r\nContent-Type: text/plain\r\n\r\nx', 'b'],
    ['a part whose headers never end', '--b\r\nContent-Type: text/plain\r\n--b--\r\n', 'b'],
    ['a malformed part Content-Type', '--b\r\nContent-Type: nonsense\r\n\r\nx\r\n--b--\r\n', 'b'],
    ['an empty boundary', '--\r\n\r\nx\r\n----\r\n', ''],
  ])('%s: not a multipart body', (_n, text, boundary) => {
    expect(parseMultipart(Buffer.from(text), boundary)).toBeUndefined();
  });
});
