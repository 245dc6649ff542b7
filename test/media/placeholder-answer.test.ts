import { describe, expect, it } from 'vitest';
import { MediaOfferRefusedError } from '../../src/media/media-errors.js';
import { agentAnswerAfterPlaceholder, offerWithAnswerCodecFirst, placeholderAnswer } from '../../src/media/placeholder-answer.js';

const offer = (mline: string, ...attrs: string[]): string => ['v=0', 'o=c 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', mline, ...attrs, ''].join('\r\n');
const mLine = (sdp: string): string => /^m=.*$/m.exec(sdp)![0].replace(/\r$/, '');

describe('the placeholder answer (the caller’s 183 and 2xx)', () => {
  it('prefers G.711 wherever the offer lists it (recordings and the monitor decode only G.711)', () => {
    const a = placeholderAnswer(offer('m=audio 4000 RTP/AVP 18 9 8 0 101', 'a=rtpmap:101 telephone-event/8000'), '127.0.0.1');
    expect(mLine(a)).toBe('m=audio 9 RTP/AVP 8 101');
  });

  it('answers with the first codec prompts can be played in, and telephone-event at its clock rate', () => {
    const a = placeholderAnswer(offer('m=audio 4000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16'), '127.0.0.1');
    expect(mLine(a)).toBe('m=audio 9 RTP/AVP 8 101');
    expect(a).toContain('a=rtpmap:8 PCMA/8000\r\n');
    expect(a).toContain('a=fmtp:101 0-16\r\n');
    expect(a).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m);
  });

  it('skips codecs rtpengine cannot encode, and telephone-event of another clock rate', () => {
    const a = placeholderAnswer(
      offer('m=audio 4000 RTP/AVP 96 111 18 102 101', 'a=rtpmap:96 AMR/8000', 'a=rtpmap:111 FOO/8000', 'a=rtpmap:102 telephone-event/16000', 'a=rtpmap:101 telephone-event/8000'),
      '::1',
    );
    // AMR is decode-only in Debian's rtpengine, FOO unknown; 18 is G.729 by its static number.
    expect(mLine(a)).toBe('m=audio 9 RTP/AVP 18 101');
    expect(a).toContain('a=rtpmap:18 G729/8000');
    expect(a).toMatch(/^c=IN IP6 ::1\r$/m);
  });

  it.each([
    ['sendrecv', 'sendrecv'],
    ['inactive', 'inactive'],
    ['sendonly', 'recvonly'],
    ['recvonly', 'sendonly'],
  ])('answers a %s offer %s (RFC 3264 §6.1), a session-level direction too', (offered, answered) => {
    expect(placeholderAnswer(offer('m=audio 4000 RTP/AVP 0', `a=${offered}`), '127.0.0.1')).toMatch(new RegExp(`\r\na=${answered}\r\n$`));
    const sessionLevel = offer('m=audio 4000 RTP/AVP 0').replace('t=0 0\r\n', `t=0 0\r\na=${offered}\r\n`);
    expect(placeholderAnswer(sessionLevel, '127.0.0.1')).toMatch(new RegExp(`\r\na=${answered}\r\n$`));
  });

  it('answers without telephone-event when none is offered', () => {
    expect(mLine(placeholderAnswer(offer('m=audio 4000 RTP/AVP 9'), '127.0.0.1'))).toBe('m=audio 9 RTP/AVP 9');
  });

  it.each([
    ['only an unknown codec', offer('m=audio 4000 RTP/AVP 99', 'a=rtpmap:99 FOO/8000'), 305, /FOO/],
    ['only a decode-only codec', offer('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 AMR-WB/16000'), 305, /AMR-WB/],
    ['audio turned off (port 0)', offer('m=audio 0 RTP/AVP 0 101'), 304, /no active audio/],
    ['no audio at all', offer('m=video 4000 RTP/AVP 96', 'a=rtpmap:96 VP8/90000'), 304, /no active audio/],
  ])('refuses an offer with %s', (_what, sdp, warning, text) => {
    let err: unknown;
    try {
      placeholderAnswer(sdp, '127.0.0.1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MediaOfferRefusedError);
    expect((err as MediaOfferRefusedError).warning).toBe(warning);
    expect((err as MediaOfferRefusedError).reason).toMatch(text);
  });
});

describe('the agent’s answer after the placeholder', () => {
  const placeholder = placeholderAnswer(offer('m=audio 4000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000'), '127.0.0.1');

  it('is passed on unchanged when it takes the placeholder’s codec (or has no events)', () => {
    const same = offer('m=audio 5000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000');
    expect(agentAnswerAfterPlaceholder(placeholder, same)).toBe(same);
    const noEvents = offer('m=audio 5000 RTP/AVP 8');
    expect(agentAnswerAfterPlaceholder(placeholder, noEvents)).toBe(noEvents);
  });

  it('loses telephone-event when it shares no audio codec with the placeholder (rtpengine then transcodes)', () => {
    const other = offer('m=audio 5000 RTP/AVP 8 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20');
    const fitted = agentAnswerAfterPlaceholder(placeholder, other);
    expect(mLine(fitted)).toBe('m=audio 5000 RTP/AVP 8');
    expect(fitted).not.toMatch(/101/);
    expect(fitted).toContain('a=rtpmap:8 PCMA/8000\r\n');
    expect(fitted).toContain('a=ptime:20\r\n');
  });
});

describe('the caller’s offer as rtpengine gets it', () => {
  it('lists the placeholder’s codec first, so the agent takes it; nothing else changes', () => {
    const given = offer('m=audio 4000 RTP/AVP 18 9 8 0 101', 'a=rtpmap:101 telephone-event/8000');
    const ordered = offerWithAnswerCodecFirst(given);
    expect(mLine(ordered)).toBe('m=audio 4000 RTP/AVP 8 18 9 0 101');
    expect(ordered.replace(mLine(ordered), '')).toBe(given.replace(mLine(given), ''));
    const already = offer('m=audio 4000 RTP/AVP 0 8 101');
    expect(offerWithAnswerCodecFirst(already)).toBe(already);
  });

  it('refuses what the placeholder could not answer', () => {
    expect(() => offerWithAnswerCodecFirst(offer('m=audio 4000 RTP/AVP 99', 'a=rtpmap:99 FOO/8000'))).toThrow(MediaOfferRefusedError);
  });
});
