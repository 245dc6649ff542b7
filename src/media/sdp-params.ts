/**
 * The ng parameters of an offer or answer: flags, what rtpengine rewrites,
 * ICE, recording, and the WebRTC conversion when a browser is on either side.
 */
import type { NgOfferRequest } from './ng/ng-types.js';
import { paramsToward, type MediaPeer } from './webrtc.js';

export interface SdpOptions {
  /** rtpengine flags, e.g. `trust-address`, `symmetric`. */
  readonly flags?: readonly string[];
  readonly replace?: readonly string[];
  readonly ICE?: 'remove' | 'force' | 'default';
  /** Start a pcap recording of the call now (`record call: yes`). */
  readonly record?: boolean;
  /**
   * Who receives the SDP rtpengine returns: a browser (`webrtc`: ICE,
   * DTLS-SRTP, RTCP-mux) or a plain RTP device (`rtp`). Default: for an offer,
   * `rtp` (a browser's offer is converted for a phone); for an answer,
   * whatever the offerer spoke.
   */
  readonly peer?: MediaPeer;
}

/**
 * ng parameters for an SDP of a `from` peer whose result goes to a `toward`
 * peer: plain to plain as always (ICE removed; an offer in `towardProtocol`);
 * to a browser, or from a browser to a plain device, the WebRTC conversion
 * (src/media/webrtc.ts). `answering`: no codec may be added to an answer.
 */
export function sdpParams(options: SdpOptions, from: MediaPeer, toward: MediaPeer, answering: boolean, towardProtocol?: string): Partial<NgOfferRequest> {
  const convert = toward === 'webrtc' || from === 'webrtc';
  const { codec, ...peer } = paramsToward(toward);
  return {
    // Plain to plain, an offer goes out in the protocol its receiver speaks (RTP/AVP for a party not
    // heard yet: agents and gateways), and rtpengine bridges: a caller's SRTP (SDES, RFC 4568) is
    // answered with one of its crypto suites and rtpengine's key, and stays SRTP in later offers.
    ...(!convert && !answering && towardProtocol !== undefined ? { 'transport-protocol': towardProtocol } : {}),
    // port-latching: a party keeps rtpengine's port when the other side's address changes (a new agent
    // answering after a placeholder, a re-INVITE), so the SDP a caller got in its 183 stays true in the 200.
    flags: options.flags ?? ['port-latching'],
    ...(options.replace !== undefined ? { replace: options.replace } : { replace: ['origin', 'session-connection'] }),
    ...(convert ? { ...peer, ...(answering || codec === undefined ? {} : { codec }) } : {}),
    ...(options.ICE !== undefined ? { ICE: options.ICE } : convert ? {} : { ICE: 'remove' }),
    ...(options.record === true ? { 'record call': 'yes' as const } : {}),
  };
}
