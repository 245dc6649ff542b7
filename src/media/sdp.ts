/**
 * The part of SDP (RFC 4566) and the offer/answer model (RFC 3264) the media
 * plane needs itself: reading where each m-line wants its RTP and with which
 * payload types, and writing the plain audio SDPs of our own RTP sockets (the
 * monitor mixer's receiving and sending ends). SDP for callers and agents is
 * never rewritten here; rtpengine does that.
 */
import { MediaStateError } from './media-errors.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RtpMap {
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
}

export interface SdpMedia {
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  /** Payload types in the order of the m-line (preference order). */
  readonly payloadTypes: readonly number[];
  readonly rtpmap: ReadonlyMap<number, RtpMap>;
  readonly fmtp: ReadonlyMap<number, string>;
  /** The effective connection address (media-level c=, else session-level). */
  readonly address: string;
  readonly direction: MediaDirection;
  readonly ptimeMs: number | undefined;
}

export interface SessionDescription {
  readonly media: readonly SdpMedia[];
}

/** Static payload types of RFC 3551 table 4 that matter here (no rtpmap needed). */
const STATIC_TYPES: ReadonlyMap<number, RtpMap> = new Map([
  [0, { encoding: 'PCMU', clockRate: 8000 }],
  [3, { encoding: 'GSM', clockRate: 8000 }],
  [4, { encoding: 'G723', clockRate: 8000 }],
  [8, { encoding: 'PCMA', clockRate: 8000 }],
  [9, { encoding: 'G722', clockRate: 8000 }],
  [13, { encoding: 'CN', clockRate: 8000 }],
  [18, { encoding: 'G729', clockRate: 8000 }],
]);

interface MutableMedia {
  type: string;
  port: number;
  protocol: string;
  payloadTypes: number[];
  rtpmap: Map<number, RtpMap>;
  fmtp: Map<number, string>;
  address: string | undefined;
  direction: MediaDirection | undefined;
  ptimeMs: number | undefined;
}

/** Parses an SDP body. Throws MediaStateError when it has no usable m-line address. */
export function parseSdp(sdp: string): SessionDescription {
  let sessionAddress: string | undefined;
  let sessionDirection: MediaDirection | undefined;
  const media: MutableMedia[] = [];
  let current: MutableMedia | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const value = line.slice(2);
    switch (line[0]) {
      case 'm': {
        const [type = '', port = '', protocol = '', ...formats] = value.split(/\s+/);
        current = {
          type,
          port: Number(port.split('/')[0]),
          protocol,
          payloadTypes: formats.map(Number).filter((n) => Number.isInteger(n)),
          rtpmap: new Map(),
          fmtp: new Map(),
          address: undefined,
          direction: undefined,
          ptimeMs: undefined,
        };
        media.push(current);
        break;
      }
      case 'c': {
        const address = value.split(/\s+/)[2]?.split('/')[0];
        if (current === undefined) sessionAddress = address;
        else current.address = address;
        break;
      }
      case 'a': {
        const colon = value.indexOf(':');
        const name = colon < 0 ? value : value.slice(0, colon);
        const arg = colon < 0 ? '' : value.slice(colon + 1);
        if (name === 'sendrecv' || name === 'sendonly' || name === 'recvonly' || name === 'inactive') {
          if (current === undefined) sessionDirection = name;
          else current.direction = name;
        } else if (current !== undefined && name === 'rtpmap') {
          const m = /^(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(arg);
          if (m !== null) {
            current.rtpmap.set(Number(m[1]), {
              encoding: m[2]!,
              clockRate: Number(m[3]),
              ...(m[4] !== undefined ? { channels: Number(m[4]) } : {}),
            });
          }
        } else if (current !== undefined && name === 'fmtp') {
          const m = /^(\d+)\s+(.*)$/.exec(arg);
          if (m !== null) current.fmtp.set(Number(m[1]), m[2]!);
        } else if (current !== undefined && name === 'ptime') {
          const n = Number(arg);
          if (Number.isFinite(n) && n > 0) current.ptimeMs = n;
        }
        break;
      }
      default:
        break;
    }
  }
  return {
    media: media.map((m) => {
      const address = m.address ?? sessionAddress;
      if (address === undefined) throw new MediaStateError(`SDP m-line "${m.type} ${m.port}" has no connection address`);
      const rtpmap = new Map(m.rtpmap);
      for (const pt of m.payloadTypes) {
        const known = STATIC_TYPES.get(pt);
        if (!rtpmap.has(pt) && known !== undefined) rtpmap.set(pt, known);
      }
      return { ...m, rtpmap, address, direction: m.direction ?? sessionDirection ?? 'sendrecv' };
    }),
  };
}

/**
 * Codecs Debian 12's rtpengine (10.5) both decodes and encodes (`rtpengine
 * --codecs`: "fully supported"): prompts can be played to a party in them, and
 * rtpengine can transcode between any two of them.
 */
export const PLAYABLE_CODECS: ReadonlySet<string> = new Set(['PCMU', 'PCMA', 'G722', 'G723', 'G729', 'G729A', 'SPEEX', 'GSM', 'OPUS']);

/** The first payload type of an m-line (its preference order) in a playable codec; undefined when none. */
export function firstPlayableCodec(media: Pick<SdpMedia, 'payloadTypes' | 'rtpmap'>): number | undefined {
  return media.payloadTypes.find((pt) => PLAYABLE_CODECS.has(media.rtpmap.get(pt)?.encoding.toUpperCase() ?? ''));
}

/**
 * The G.711 law a payload type carries in this m-line, if any. Static types 0
 * and 8 mean PCMU and PCMA even when the m-line did not list them (RFC 3551
 * fixes them), so a peer that strays from the negotiated codec is still heard.
 */
export function g711LawOf(media: Pick<SdpMedia, 'rtpmap'>, payloadType: number): 'pcmu' | 'pcma' | undefined {
  const enc = media.rtpmap.get(payloadType)?.encoding.toUpperCase();
  if (enc === 'PCMU') return 'pcmu';
  if (enc === 'PCMA') return 'pcma';
  if (enc === undefined && payloadType === 0) return 'pcmu';
  if (enc === undefined && payloadType === 8) return 'pcma';
  return undefined;
}

export interface LocalAudioLine {
  readonly port: number;
  readonly payloadTypes: readonly number[];
  readonly rtpmap: ReadonlyMap<number, RtpMap>;
  readonly fmtp?: ReadonlyMap<number, string>;
  readonly direction: MediaDirection;
  readonly ptimeMs?: number;
}

/** Writes an SDP for our own sockets on `address`, one audio m-line per entry. */
export function buildAudioSdp(address: string, lines: readonly LocalAudioLine[], sessionId = Date.now()): string {
  const ipVersion = address.includes(':') ? 'IP6' : 'IP4';
  const out = ['v=0', `o=switchboard ${sessionId} ${sessionId} IN ${ipVersion} ${address}`, 's=switchboard', `c=IN ${ipVersion} ${address}`, 't=0 0'];
  for (const l of lines) {
    out.push(`m=audio ${l.port} RTP/AVP ${l.payloadTypes.join(' ')}`);
    for (const pt of l.payloadTypes) {
      const map = l.rtpmap.get(pt);
      if (map !== undefined) out.push(`a=rtpmap:${pt} ${map.encoding}/${map.clockRate}${map.channels !== undefined ? `/${map.channels}` : ''}`);
      const fmtp = l.fmtp?.get(pt);
      if (fmtp !== undefined) out.push(`a=fmtp:${pt} ${fmtp}`);
    }
    if (l.ptimeMs !== undefined) out.push(`a=ptime:${l.ptimeMs}`);
    out.push(`a=${l.direction}`);
  }
  return `${out.join('\r\n')}\r\n`;
}

/**
 * RFC 3264 §6: the answer's direction for an offered one (we only ever
 * receive on a subscription, and only ever send on a supervisor stream).
 */
export function answerDirection(offered: MediaDirection, wantSend: boolean, wantReceive: boolean): MediaDirection {
  const send = wantSend && (offered === 'sendrecv' || offered === 'recvonly');
  const receive = wantReceive && (offered === 'sendrecv' || offered === 'sendonly');
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

/**
 * The same media: connection addresses, m= lines (ports, formats), directions and
 * keys unchanged (SDES crypto, RFC 4568 §7.1.4; DTLS fingerprint and setup; ICE
 * credentials, whose change is an ICE restart); o=, s=, t= and other attributes
 * (fmtp, ptime: rtpengine's 200 adds them to the 183's answer) may differ.
 */
export function sameMedia(a: string, b: string): boolean {
  const key = (sdp: string): string =>
    sdp
      .split(/\r?\n/)
      .filter((l) => /^(c=|m=|a=(sendrecv|sendonly|recvonly|inactive|rtpmap:|crypto:|fingerprint:|setup:|ice-ufrag:|ice-pwd:))/.test(l))
      .join('\n');
  return key(a) === key(b);
}
