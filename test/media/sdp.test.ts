import { describe, expect, it } from 'vitest';
import { MediaStateError } from '../../src/media/media-errors.js';
import { MonitorOutput } from '../../src/media/monitor/monitor-output.js';
import { answerDirection, buildAudioSdp, g711LawOf, parseSdp } from '../../src/media/sdp.js';

// The shape rtpengine 10.5 answers a subscribe request with (session-level c= after m= lines in media sections).
const SUBSCRIBE_OFFER = [
  'v=0',
  'o=- 77 77 IN IP4 127.0.0.1',
  's=rtpengine',
  't=0 0',
  'm=audio 56924 RTP/AVP 8 0 101',
  'c=IN IP4 127.0.0.1',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendonly',
  'a=rtcp:56925',
  'm=audio 56940 RTP/AVP 0',
  'c=IN IP4 127.0.0.2',
  'a=sendonly',
  'a=ptime:30',
  '',
].join('\r\n');

describe('SDP (RFC 4566) for our own sockets', () => {
  it('reads each m-line: port, payload types in order, rtpmap (static types filled in), fmtp, address, direction, ptime', () => {
    const { media } = parseSdp(SUBSCRIBE_OFFER);
    expect(media).toHaveLength(2);
    expect(media[0]).toMatchObject({ type: 'audio', port: 56924, payloadTypes: [8, 0, 101], address: '127.0.0.1', direction: 'sendonly', ptimeMs: undefined });
    expect(media[0]!.rtpmap.get(101)).toEqual({ encoding: 'telephone-event', clockRate: 8000 });
    expect(media[0]!.fmtp.get(101)).toBe('0-16');
    expect(media[1]).toMatchObject({ port: 56940, address: '127.0.0.2', ptimeMs: 30 });
    expect(media[1]!.rtpmap.get(0)).toEqual({ encoding: 'PCMU', clockRate: 8000 });
  });

  it('a session-level c= and direction apply to m-lines without their own', () => {
    const { media } = parseSdp('v=0\r\nc=IN IP4 10.0.0.1\r\na=recvonly\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect(media[0]).toMatchObject({ address: '10.0.0.1', direction: 'recvonly' });
  });

  it('an m-line without any address is an error', () => {
    expect(() => parseSdp('v=0\r\nm=audio 4000 RTP/AVP 0\r\n')).toThrow(MediaStateError);
  });

  it('G.711 by rtpmap, and by static type 0/8 even when unlisted; nothing else', () => {
    const m = parseSdp(SUBSCRIBE_OFFER).media[0]!;
    expect(g711LawOf(m, 8)).toBe('pcma');
    expect(g711LawOf(m, 0)).toBe('pcmu');
    expect(g711LawOf(m, 101)).toBeUndefined();
    expect(g711LawOf(parseSdp(SUBSCRIBE_OFFER).media[1]!, 8)).toBe('pcma');
  });

  it('RFC 3264 §6 answer directions for a receive-only party', () => {
    expect(answerDirection('sendonly', false, true)).toBe('recvonly');
    expect(answerDirection('sendrecv', false, true)).toBe('recvonly');
    expect(answerDirection('recvonly', false, true)).toBe('inactive');
    expect(answerDirection('recvonly', true, false)).toBe('sendonly');
    expect(answerDirection('sendrecv', true, true)).toBe('sendrecv');
  });

  it('writes SDP that reads back the same', () => {
    const offered = parseSdp(SUBSCRIBE_OFFER).media[0]!;
    const text = buildAudioSdp('127.0.0.1', [{ port: 5004, payloadTypes: offered.payloadTypes, rtpmap: offered.rtpmap, fmtp: offered.fmtp, direction: 'recvonly' }]);
    const back = parseSdp(text).media[0]!;
    expect(back).toMatchObject({ port: 5004, payloadTypes: [8, 0, 101], direction: 'recvonly', address: '127.0.0.1' });
    expect(back.fmtp.get(101)).toBe('0-16');
    expect(parseSdp(buildAudioSdp('::1', [{ port: 6000, payloadTypes: [0], rtpmap: new Map(), direction: 'sendonly' }])).media[0]!.address).toBe('::1');
  });

  it('a supervisor output takes the first G.711 law the device accepts, and refuses an answer that cannot receive', async () => {
    const out = await MonitorOutput.open('127.0.0.1');
    try {
      expect(out.sdpOffer()).toContain(`m=audio ${out.port} RTP/AVP 0 8`);
      expect(out.setRemoteSdp('v=0\r\nc=IN IP4 192.0.2.9\r\nm=audio 7000 RTP/AVP 9 8 0\r\na=recvonly\r\n')).toEqual({ address: '192.0.2.9', port: 7000, codec: 'pcma', payloadType: 8 });
      expect(() => out.setRemoteSdp('v=0\r\nc=IN IP4 192.0.2.9\r\nm=audio 7000 RTP/AVP 0\r\na=sendonly\r\n')).toThrow(/would not receive/);
      expect(() => out.setRemoteSdp('v=0\r\nc=IN IP4 192.0.2.9\r\nm=audio 7000 RTP/AVP 9\r\n')).toThrow(/neither PCMU nor PCMA/);
    } finally {
      out.close();
    }
  });
});
