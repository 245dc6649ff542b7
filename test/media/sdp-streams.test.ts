/**
 * One audio stream through rtpengine, every offered m-line in the caller's
 * answer (RFC 3264 §6): the offer cut to its first usable audio stream, and
 * rtpengine's SDP put back in the offer's shape, rejected streams with port 0,
 * an answer's direction mirrored (§6.1).
 */
import { describe, expect, it } from 'vitest';
import { parseSdp } from '../../src/media/sdp.js';
import { sendsAudio, shapeForCaller, singleAudio } from '../../src/media/sdp-streams.js';

const sdp = (...lines: string[]): string => ['v=0', 'o=c 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...lines, ''].join('\r\n');
const mLines = (s: string): string[] => s.split('\r\n').filter((l) => l.startsWith('m='));
const AUDIO = ['m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv'];
const VIDEO = ['m=video 4002 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=sendrecv'];
/** What rtpengine writes toward the caller: one audio m-line, session-level c=. */
const RTPENGINE = (direction = 'sendrecv'): string =>
  ['v=0', 'o=switchboard 1 1 IN IP4 127.0.0.1', 's=switchboard', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 30000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', `a=${direction}`, 'a=rtcp:30001', ''].join('\r\n');

describe('the caller’s offer as rtpengine gets it', () => {
  it('audio and video: only the audio stream, the session lines kept', () => {
    const { sdp: single, layout } = singleAudio(sdp(...AUDIO, ...VIDEO));
    expect(mLines(single)).toEqual(['m=audio 4000 RTP/AVP 0 101']);
    expect(single).toContain('c=IN IP4 192.0.2.1\r\n');
    expect(single).not.toContain('H264');
    expect(layout).toEqual({ rejected: [['m=audio 0 RTP/AVP 0'], ['m=video 0 RTP/AVP 96']], kept: 0, offered: 'sendrecv' });
  });

  it('video first, then two audio lines: the first audio one; a first audio line with no codec rtpengine can play gives way to the next', () => {
    expect(singleAudio(sdp(...VIDEO, ...AUDIO, 'm=audio 4004 RTP/AVP 8')).layout?.kept).toBe(1);
    const { sdp: single, layout } = singleAudio(sdp('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 AMR/8000', 'm=audio 4004 RTP/AVP 8'));
    expect(mLines(single)).toEqual(['m=audio 4004 RTP/AVP 8']);
    expect(layout?.kept).toBe(1);
    // None playable: the first active one (the placeholder refuses it with its reason), a disabled one skipped.
    expect(singleAudio(sdp('m=audio 0 RTP/AVP 0', 'm=audio 4000 RTP/AVP 96', 'a=rtpmap:96 AMR/8000')).layout?.kept).toBe(1);
  });

  it('a single audio stream is passed as it is; an offer without an active audio stream too, without a layout', () => {
    const one = sdp('m=audio 4000 RTP/AVP 0', 'a=inactive');
    expect(singleAudio(one)).toEqual({ sdp: one, layout: { rejected: [['m=audio 0 RTP/AVP 0']], kept: 0, offered: 'inactive' } });
    const none = sdp('m=audio 0 RTP/AVP 0', ...VIDEO);
    expect(singleAudio(none)).toEqual({ sdp: none, layout: undefined });
  });

  it('a BUNDLE group names only the stream left; the mids of the others are kept for the answer', () => {
    const offer = sdp('a=group:BUNDLE 0 1', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=rtpmap:111 opus/48000/2', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=rtpmap:96 VP8/90000');
    const { sdp: single, layout } = singleAudio(offer);
    expect(single).toContain('a=group:BUNDLE 0\r\n');
    expect(single).not.toContain('a=mid:1');
    expect(layout?.rejected[1]).toEqual(['m=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:1']);
  });
});

describe('rtpengine’s SDP as the caller gets it', () => {
  it('an answer has exactly the offer’s m-lines in its order: the audio one where it was, the others port 0 with type, protocol and a format', () => {
    const { layout } = singleAudio(sdp(...VIDEO, ...AUDIO, 'm=audio 4006 RTP/AVP 8', 'm=image 4008 udptl t38'));
    const answer = shapeForCaller(RTPENGINE(), layout, true);
    expect(mLines(answer)).toEqual(['m=video 0 RTP/AVP 96', 'm=audio 30000 RTP/AVP 0 101', 'm=audio 0 RTP/AVP 8', 'm=image 0 udptl t38']);
    const media = parseSdp(answer).media;
    expect(media.map((m) => m.port)).toEqual([0, 30000, 0, 0]);
    expect(media[1]).toMatchObject({ address: '127.0.0.1', direction: 'sendrecv', payloadTypes: [0, 101] });
    expect(answer.startsWith('v=0\r\no=switchboard 1 1 IN IP4 127.0.0.1\r\n')).toBe(true);
    expect(answer.endsWith('\r\n')).toBe(true);
  });

  it('without a session-level c=, each rejected m-line gets the audio one’s (RFC 4566 §5.7: every m-line has an address)', () => {
    const { layout } = singleAudio(sdp(...AUDIO, ...VIDEO));
    const mediaLevel = ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=audio 30000 RTP/AVP 0', 'c=IN IP4 127.0.0.1', 'a=sendrecv', ''].join('\r\n');
    expect(parseSdp(shapeForCaller(mediaLevel, layout, true)).media.map((m) => [m.type, m.port, m.address])).toEqual([
      ['audio', 30000, '127.0.0.1'],
      ['video', 0, '127.0.0.1'],
    ]);
  });

  it.each([
    ['inactive', 'sendrecv', 'inactive'],
    ['sendonly', 'sendrecv', 'recvonly'],
    ['recvonly', 'sendrecv', 'sendonly'],
    ['sendrecv', 'sendrecv', 'sendrecv'],
    ['sendrecv', 'sendonly', 'sendonly'],
    ['recvonly', 'recvonly', 'inactive'],
  ])('an answer to a %s offer, %s from rtpengine, goes to the caller %s (RFC 3264 §6.1)', (offered, own, expected) => {
    const { layout } = singleAudio(sdp('m=audio 4000 RTP/AVP 0', `a=${offered}`));
    const answer = shapeForCaller(RTPENGINE(own), layout, true);
    expect(parseSdp(answer).media[0]!.direction).toBe(expected);
    expect(answer.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r$/gm)).toHaveLength(1);
  });

  it('an offer toward the caller keeps its direction and the rejected m-lines (RFC 3264 §8: their number never goes down)', () => {
    const { layout } = singleAudio(sdp('a=inactive', ...AUDIO.slice(0, 2), ...VIDEO.slice(0, 2)));
    const offer = shapeForCaller(RTPENGINE('sendonly'), layout, false);
    expect(mLines(offer)).toEqual(['m=audio 30000 RTP/AVP 0 101', 'm=video 0 RTP/AVP 96']);
    expect(parseSdp(offer).media[0]!.direction).toBe('sendonly');
  });

  it('unchanged when there is nothing to restore or mirror, or no layout (the caller never offered)', () => {
    const { layout } = singleAudio(sdp(...AUDIO));
    expect(shapeForCaller(RTPENGINE(), layout, true)).toBe(RTPENGINE());
    expect(shapeForCaller(RTPENGINE('inactive'), undefined, true)).toBe(RTPENGINE('inactive'));
  });

  it('whether the author sends on its audio stream: sendrecv and sendonly do, recvonly and inactive do not', () => {
    expect([RTPENGINE(), RTPENGINE('sendonly'), RTPENGINE('recvonly'), RTPENGINE('inactive')].map(sendsAudio)).toEqual([true, true, false, false]);
  });
});
