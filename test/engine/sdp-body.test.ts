/**
 * The SDP in a SIP body (RFC 3261 §7.4, RFC 5621): the body itself, or the
 * application/sdp part of a multipart body (SDP with ISUP from a carrier,
 * RFC 3204); other parts ignored unless handling=required (RFC 3261 §20.11).
 */
import { describe, expect, it } from 'vitest';
import { ACCEPTED_BODY_TYPES, multipartParts, sdpOfBody, sdpOfUntypedBody } from '../../src/engine/signaling/sdp-body.js';

const SDP = ['v=0', 'o=carrier 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', ''].join('\r\n');
/** An ISUP IAM as it travels: binary, with bytes that look like line ends and dashes. */
const ISUP = String.fromCharCode(0x01, 0x00, 0x49, 0x00, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff, 0x0a);

/** A multipart body with these parts (headers, content), delimited by `boundary` (RFC 2046 §5.1.1). */
function multipart(boundary: string, ...parts: [string[], string][]): string {
  return `${parts.map(([headers, content]) => `--${boundary}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${content}\r\n`).join('')}--${boundary}--\r\n`;
}

const sip = (handling?: string): [string[], string] => [['Content-Type: application/isup;version=itu-t92+;base=itu-t92+', ...(handling !== undefined ? [`Content-Disposition: signal;handling=${handling}`] : [])], ISUP];

describe('the SDP in a SIP body', () => {
  it('application/sdp (any case, with parameters), or no Content-Type at all (as drachtio): the body; no body: none', () => {
    expect(sdpOfBody('application/sdp', SDP)).toEqual({ kind: 'sdp', sdp: SDP });
    expect(sdpOfBody('Application/SDP; charset=utf-8', SDP)).toEqual({ kind: 'sdp', sdp: SDP });
    expect(sdpOfBody(undefined, SDP)).toEqual({ kind: 'sdp', sdp: SDP });
    expect(sdpOfBody('application/sdp', '')).toEqual({ kind: 'none' });
    expect(sdpOfBody(undefined, undefined)).toEqual({ kind: 'none' });
  });

  it('multipart/mixed with SDP and an optional ISUP part (SIP-I): the SDP part, exactly', () => {
    const body = multipart('b1', [['Content-Type: application/sdp'], SDP], sip('optional'));
    expect(sdpOfBody('multipart/mixed;boundary=b1', body)).toEqual({ kind: 'sdp', sdp: SDP });
    // The ISUP part first, a quoted boundary, a preamble and an epilogue, LF line ends, a folded part header.
    const other = `This is a preamble.\n${multipart('uniqueBoundary', sip('optional'), [['Content-Type:', ' application/sdp'], SDP])}epilogue\r\n`;
    expect(sdpOfBody('multipart/mixed; boundary="uniqueBoundary"', other)).toEqual({ kind: 'sdp', sdp: SDP });
    const lf = multipart('b2', [['Content-Type: application/sdp'], SDP.replaceAll('\r\n', '\n')], sip('optional')).replaceAll('\r\n', '\n');
    expect(sdpOfBody('multipart/mixed;boundary=b2', lf)).toEqual({ kind: 'sdp', sdp: SDP.replaceAll('\r\n', '\n') });
  });

  it('an SDP part written with one line end after its last line (that line end belongs to the delimiter): its last line is ended again (RFC 4566 §5)', () => {
    const body = multipart('b1', [['Content-Type: application/sdp'], SDP.slice(0, -2)], sip('optional'));
    expect(sdpOfBody('multipart/mixed;boundary=b1', body)).toEqual({ kind: 'sdp', sdp: SDP });
    const lf = multipart('b2', [['Content-Type: application/sdp'], SDP.slice(0, -2).replaceAll('\r\n', '\n')]).replaceAll('\r\n', '\n');
    expect(sdpOfBody('multipart/mixed;boundary=b2', lf)).toEqual({ kind: 'sdp', sdp: SDP.replaceAll('\r\n', '\n') });
  });

  it('CHOICE: an ISUP part without Content-Disposition is optional (as the embedded SIP server takes it)', () => {
    expect(sdpOfBody('multipart/mixed;boundary=b1', multipart('b1', [['Content-Type: application/sdp'], SDP], sip()))).toEqual({ kind: 'sdp', sdp: SDP });
  });

  it('a part we cannot read that says handling=required makes the body unreadable (415 with Accept)', () => {
    const body = multipart('b1', [['Content-Type: application/sdp'], SDP], sip('required'));
    expect(sdpOfBody('multipart/mixed;boundary=b1', body)).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(/required part \(a body of type application\/isup\)/) as unknown });
    expect(ACCEPTED_BODY_TYPES).toBe('application/sdp, multipart/mixed, multipart/alternative, multipart/related');
  });

  it('nested multipart (RFC 5621 §3.1) is searched; no SDP part, another type, a malformed body: unreadable', () => {
    const inner = multipart('in', [['Content-Type: application/sdp'], SDP]);
    expect(sdpOfBody('multipart/mixed;boundary=out', multipart('out', sip('optional'), [['Content-Type: multipart/alternative;boundary=in'], inner]))).toEqual({ kind: 'sdp', sdp: SDP });
    expect(sdpOfBody('multipart/mixed;boundary=b1', multipart('b1', sip('optional')))).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(/without an application\/sdp part/) as unknown });
    expect(sdpOfBody('text/html', '<p>hi</p>')).toMatchObject({ kind: 'unreadable', reason: 'a body of type text/html' });
    expect(sdpOfBody('multipart/mixed', multipart('b1', [['Content-Type: application/sdp'], SDP]))).toMatchObject({ kind: 'unreadable' });
    expect(sdpOfBody('multipart/mixed;boundary=zz', multipart('b1', [['Content-Type: application/sdp'], SDP]))).toMatchObject({ kind: 'unreadable' });
    expect(sdpOfBody('not a type', SDP)).toMatchObject({ kind: 'unreadable', reason: 'a malformed Content-Type' });
  });

  it('delimiters only at the start of a line, the last one closing; the line end before a delimiter belongs to it (RFC 2046 §5.1.1)', () => {
    const parts = multipartParts('--b\r\nContent-Type: text/plain\r\n\r\nx --b not a delimiter\r\n--bc neither\r\n--b  \r\n\r\nsecond\r\n--b--\r\nignored\r\n--b\r\n', 'b');
    expect(parts?.map((p) => p.content)).toEqual(['x --b not a delimiter\r\n--bc neither', 'second']);
    expect(parts?.[1]!.headers.size).toBe(0);
    expect(multipartParts('--b\r\nno header end', 'b')).toBeUndefined();
  });

  it('a body without its Content-Type (a 2xx as drachtio-srf hands it over): a multipart one by its first delimiter line, else the body', () => {
    expect(sdpOfUntypedBody(SDP)).toBe(SDP);
    expect(sdpOfUntypedBody(multipart('b1', sip('optional'), [['Content-Type: application/sdp'], SDP]))).toBe(SDP);
    expect(sdpOfUntypedBody(multipart('we"ird', [['Content-Type: application/sdp'], SDP]))).toBe(SDP);
    // No SDP part in it: left as it is (rtpengine refuses it, the call fails as with any bad answer).
    const isupOnly = multipart('b3', sip('optional'));
    expect(sdpOfUntypedBody(isupOnly)).toBe(isupOnly);
  });
});
