/**
 * The test SIP peer itself: a stray media datagram (a stream of an earlier
 * socket on the same ephemeral port) is dropped and counted, as a phone
 * would; anything else that is not SIP still fails loudly.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './harness.js';
import { isMediaDatagram, SipPeer } from './sip-peer.js';

let peer: SipPeer;
beforeAll(async () => {
  peer = await SipPeer.create('udp');
});
afterAll(() => peer?.close());

describe('test SIP peer', () => {
  it('tells RTP, RTCP and STUN from SIP by the first byte (RFC 7983), and SIP or malformed text is not media', () => {
    expect(isMediaDatagram(Buffer.from([0x80, 0x00, 0x12, 0x34]))).toBe(true); // RTP, PT 0
    expect(isMediaDatagram(Buffer.from([0x81, 0xc8]))).toBe(true); // RTCP sender report
    expect(isMediaDatagram(Buffer.from([0x00, 0x01, 0x00, 0x00]))).toBe(true); // STUN binding request
    expect(isMediaDatagram(Buffer.from('INVITE sip:a@b SIP/2.0\r\n'))).toBe(false);
    expect(isMediaDatagram(Buffer.from('SIP/2.0 200 OK\r\n'))).toBe(false);
    expect(isMediaDatagram(Buffer.from(' INVITE'))).toBe(false);
    expect(isMediaDatagram(Buffer.from('200 OK'))).toBe(false);
    expect(isMediaDatagram(Buffer.alloc(0))).toBe(false);
  });

  it('drops and counts RTP sent to its port, and still takes the SIP that follows', async () => {
    const s = createSocket('udp4');
    const send = (data: Buffer): Promise<void> => new Promise((resolve, reject) => s.send(data, peer.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    try {
      const rtp = Buffer.concat([Buffer.from([0x80, 0x00, 0xd1, 0x90, 0, 0, 0, 160, 1, 2, 3, 4]), Buffer.alloc(160, 0xff)]);
      await send(rtp);
      await send(rtp);
      await send(Buffer.from('OPTIONS sip:peer@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:peer@127.0.0.1>\r\nCall-ID: stray-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n'));
      await eventually(() => peer.received.some((r) => r.info.callId === 'stray-1'), 10_000, 'the OPTIONS');
      expect(peer.strayMediaDatagrams).toBe(2);
    } finally {
      s.close();
    }
  });
});
