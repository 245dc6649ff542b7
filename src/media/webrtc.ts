/**
 * Browser (WebRTC) media through rtpengine: RFC 8829 (JSEP) peers speak
 * `UDP/TLS/RTP/SAVPF` (RFC 5764 DTLS-SRTP, RFC 5124), ICE (RFC 8445) and
 * RTP/RTCP multiplexing (RFC 5761, required by RFC 8834 §5.1.1), and offer
 * Opus and G.711. Phones, carriers and the monitor mixer speak plain
 * `RTP/AVP`. rtpengine sits between and terminates ICE and DTLS on the
 * browser's side; these are the ng parameters that ask for each side.
 *
 * What works on Debian 12's rtpengine 10.5 (measured with Chromium, see
 * docs/media.md "Browsers"): both directions of offer, ICE with the browser's
 * host or mDNS candidates (rtpengine learns the browser's address from its
 * connectivity checks), DTLS-SRTP (rtpengine takes the role the browser
 * leaves it), and Opus↔G.711 transcoding when a browser offers Opus only.
 */
import type { NgOfferRequest } from './ng/ng-types.js';

/** What kind of endpoint an SDP is for: a browser (WebRTC) or a plain RTP device. */
export type MediaPeer = 'webrtc' | 'rtp';

/** The ng parameters that shape the SDP rtpengine returns, for a peer of this kind. */
export type PeerParams = Pick<NgOfferRequest, 'transport-protocol' | 'ICE' | 'rtcp-mux' | 'SDES' | 'codec'>;

/**
 * rtpengine's SDP goes to a browser: DTLS-SRTP with ICE, RTCP multiplexed
 * (browsers refuse an answer without it), no SDES keys (RFC 8827 §6.5 forbids
 * them in WebRTC).
 */
export const TOWARD_WEBRTC: PeerParams = {
  'transport-protocol': 'UDP/TLS/RTP/SAVPF',
  ICE: 'force',
  'rtcp-mux': ['require'],
  SDES: ['off'],
};

/**
 * rtpengine's SDP goes to a plain RTP device: RTP/AVP without ICE, RTCP on
 * its own port, and G.711 offered even when the browser offered only Opus
 * (rtpengine transcodes).
 */
export const TOWARD_RTP: PeerParams = {
  'transport-protocol': 'RTP/AVP',
  ICE: 'remove',
  'rtcp-mux': ['demux'],
  codec: { transcode: ['PCMU', 'PCMA'] },
};

/** Whether an SDP comes from a WebRTC endpoint: any m-line over DTLS (RFC 5764 §8: `UDP/TLS/RTP/SAVP(F)`). */
export function isWebRtcSdp(sdp: string): boolean {
  return /^m=[a-z]+ \d+(?:\/\d+)? (?:UDP\/)?TLS\/RTP\/SAVPF? /im.test(sdp);
}

/** The peer kind of an SDP (what its author speaks). */
export function peerOf(sdp: string): MediaPeer {
  return isWebRtcSdp(sdp) ? 'webrtc' : 'rtp';
}

export function paramsToward(peer: MediaPeer): PeerParams {
  return peer === 'webrtc' ? TOWARD_WEBRTC : TOWARD_RTP;
}

/** A SIP URI reached over WebSocket (RFC 7118 §5.2 `transport=ws`/`wss`): browsers, so WebRTC. */
export function isWebSocketUri(uri: string): boolean {
  return /;transport=wss?(?=[;?>]|$)/i.test(uri);
}
