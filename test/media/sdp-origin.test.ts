import { describe, expect, it } from 'vitest';
import { SdpOriginKeeper } from '../../src/media/sdp-origin.js';

const sdp = (origin: string, port: number, codecs = '0 101'): string =>
  ['v=0', `o=${origin}`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${codecs}`, 'a=sendrecv', ''].join('\r\n');
const originOf = (text: string): string => /^o=(.*)$/m.exec(text)![1]!.replace(/\r$/, '');

describe('one SDP session toward a party (RFC 3264 §8)', () => {
  it('keeps the first origin, and the version while only the origin line differs', () => {
    const k = new SdpOriginKeeper();
    const first = sdp('switchboard 1 1 IN IP4 127.0.0.1', 4000);
    expect(k.stamp(first)).toBe(first);
    // The agent's origin, same media: the same description again, byte for byte.
    expect(k.stamp(sdp('agent 77 15 IN IP4 127.0.0.1', 4000))).toBe(first);
  });

  it('raises the version by exactly one per change, and only then', () => {
    const k = new SdpOriginKeeper();
    k.stamp(sdp('switchboard 1 1 IN IP4 127.0.0.1', 4000));
    expect(originOf(k.stamp(sdp('agent 77 15 IN IP4 127.0.0.1', 4000, '0')))).toBe('switchboard 1 2 IN IP4 127.0.0.1');
    expect(originOf(k.stamp(sdp('other 9 1000 IN IP4 10.0.0.1', 4000, '0')))).toBe('switchboard 1 2 IN IP4 127.0.0.1');
    expect(originOf(k.stamp(sdp('other 9 1001 IN IP4 10.0.0.1', 4002, '0')))).toBe('switchboard 1 3 IN IP4 127.0.0.1');
    // Back to an earlier description is still a change.
    expect(originOf(k.stamp(sdp('agent 77 16 IN IP4 127.0.0.1', 4000, '0')))).toBe('switchboard 1 4 IN IP4 127.0.0.1');
  });

  it('keeps the first session name (s=) too, and a name alone is no change', () => {
    const k = new SdpOriginKeeper();
    k.stamp(sdp('switchboard 1 1 IN IP4 127.0.0.1', 4000).replace('s=-', 's=switchboard'));
    const next = k.stamp(sdp('agent 5 9 IN IP4 127.0.0.1', 4000).replace('s=-', 's=agent phone'));
    expect(next).toMatch(/^s=switchboard\r$/m);
    expect(originOf(next)).toBe('switchboard 1 1 IN IP4 127.0.0.1');
  });

  it('with its own identity: a first description of someone else (an agent phone) gets our username, name and a session id of ours', () => {
    const k = new SdpOriginKeeper({ username: 'switchboard', name: 'switchboard', newSessionId: () => '4242' });
    const first = k.stamp(sdp('PolycomSoundPoint 987 55 IN IP4 127.0.0.1', 4000).replace('s=-', 's=Polycom'));
    expect(originOf(first)).toBe('switchboard 4242 1 IN IP4 127.0.0.1');
    expect(first).toMatch(/^s=switchboard\r$/m);
    expect(originOf(k.stamp(sdp('PolycomSoundPoint 987 56 IN IP4 127.0.0.1', 4002)))).toBe('switchboard 4242 2 IN IP4 127.0.0.1');
    // Our own first description (the placeholder's template, written with a fixed id) keeps its version and
    // gets a session id of this call's (RFC 8866 §5.2: the origin names one session alone).
    let n = 7000;
    const own = () => new SdpOriginKeeper({ username: 'switchboard', name: 'switchboard', newSessionId: () => String(++n) });
    const placeholder = sdp('switchboard 1 1 IN IP4 127.0.0.1', 4000).replace('s=-', 's=switchboard');
    expect(own().stamp(placeholder)).toBe(placeholder.replace('o=switchboard 1 1', 'o=switchboard 7001 1'));
    expect(own().stamp(placeholder)).toBe(placeholder.replace('o=switchboard 1 1', 'o=switchboard 7002 1'));
  });

  it('keeps line endings, handles versions past 2^53, and passes on a description without an origin', () => {
    const k = new SdpOriginKeeper();
    const big = sdp('ntp 3900000000 9007199254740993 IN IP4 127.0.0.1', 4000).replaceAll('\r\n', '\n');
    expect(k.stamp(big)).toBe(big);
    const next = k.stamp(sdp('x 1 1 IN IP4 127.0.0.1', 4002).replaceAll('\r\n', '\n'));
    expect(next).not.toContain('\r');
    expect(originOf(next)).toBe('ntp 3900000000 9007199254740994 IN IP4 127.0.0.1');
    const noOrigin = 'v=0\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n';
    expect(k.stamp(noOrigin)).toBe(noOrigin);
  });
});
