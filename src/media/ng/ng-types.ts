/**
 * Typed request and reply shapes of the ng commands Switchboard uses, as
 * rtpengine 10.5 (Debian 12) accepts and answers them (see
 * ../shared/specs/rtpengine-10.5-notes.md and the rtpengine documentation,
 * "ng Control Protocol"). Keys keep rtpengine's spelling. Replies are the
 * decoded dictionary with text values; fields this version may omit are
 * optional.
 */
import type { TextBencode } from './bencode.js';

/** Selects the party a media command applies to: by our label or by tag. */
export interface NgPartySelector {
  readonly label?: string;
  readonly 'from-tag'?: string;
  readonly 'to-tag'?: string;
}

interface NgCallRequest {
  readonly 'call-id': string;
}

/** Every reply has `result` ("ok", or "pong" for ping) and may carry a `warning`. */
export interface NgReplyBase {
  readonly result: string;
  readonly warning?: string;
  readonly [key: string]: unknown;
}

export interface NgOfferRequest extends NgCallRequest {
  readonly 'from-tag': string;
  readonly sdp: string;
  /** Names this party for later media commands (`label: caller`). */
  readonly label?: string;
  readonly flags?: readonly string[];
  readonly replace?: readonly string[];
  readonly ICE?: 'remove' | 'force' | 'default';
  readonly 'transport-protocol'?: string;
  /** RFC 5761 multiplexing toward the SDP's recipient: `offer`, `require`, `demux`, `accept`, `reject`. */
  readonly 'rtcp-mux'?: readonly string[];
  /** SDES (RFC 4568) crypto suites: `off` offers none (WebRTC uses DTLS-SRTP only). */
  readonly SDES?: readonly string[];
  readonly direction?: readonly [string, string];
  readonly 'record call'?: 'yes' | 'no';
  readonly metadata?: string;
  readonly codec?: {
    readonly strip?: readonly string[];
    readonly offer?: readonly string[];
    readonly transcode?: readonly string[];
    readonly mask?: readonly string[];
  };
}

export interface NgAnswerRequest extends NgOfferRequest {
  readonly 'to-tag': string;
}

export interface NgSdpReply extends NgReplyBase {
  readonly sdp: string;
  /** With `record call: yes`: the pcap files being written. */
  readonly recordings?: TextBencode;
}

export interface NgDeleteRequest extends NgCallRequest {
  readonly 'from-tag'?: string;
  readonly 'to-tag'?: string;
  readonly flags?: readonly string[];
  readonly 'delete-delay'?: number;
}

/** Per-tag and total counters (`delete` and `query` replies). */
export interface NgCallStatsReply extends NgReplyBase {
  readonly created?: number;
  readonly 'created_us'?: number;
  readonly 'last signal'?: number;
  readonly tags?: TextBencode;
  readonly totals?: TextBencode;
}

export interface NgListRequest {
  readonly limit?: number;
}

export interface NgListReply extends NgReplyBase {
  readonly calls: string[];
}

export interface NgPlayMediaRequest extends NgCallRequest, NgPartySelector {
  /** Absolute path readable by the rtpengine process. */
  readonly file?: string;
  /** The audio file itself, inline (binary-safe with our bencode). */
  readonly blob?: Uint8Array;
  readonly 'repeat-times'?: number;
  readonly 'start-pos'?: number;
}

export interface NgPlayMediaReply extends NgReplyBase {
  /** Length of one playback of the file, in milliseconds. */
  readonly duration?: number;
}

export interface NgStopMediaReply extends NgReplyBase {
  readonly 'last-frame-pos'?: number;
}

export interface NgMediaControlRequest extends NgCallRequest, NgPartySelector {
  readonly flags?: readonly string[];
}

export interface NgSubscribeRequest extends NgCallRequest {
  /** The parties whose media the subscriber receives, one m-line each, in this order. */
  readonly 'from-tags'?: readonly string[];
  readonly 'from-tag'?: string;
  /** Tag of the new subscriber; rtpengine makes one up when absent. */
  readonly 'to-tag'?: string;
  readonly flags?: readonly string[];
}

export interface NgSubscribeReply extends NgReplyBase {
  readonly sdp: string;
  readonly 'to-tag'?: string;
  readonly 'from-tags'?: TextBencode;
  readonly 'tag-medias'?: TextBencode;
}

export interface NgSubscribeAnswerRequest extends NgCallRequest {
  readonly 'to-tag': string;
  readonly sdp: string;
  readonly flags?: readonly string[];
}

export interface NgUnsubscribeRequest extends NgCallRequest {
  readonly 'to-tag': string;
}

export interface NgRecordingRequest extends NgCallRequest {
  readonly 'from-tag'?: string;
  /** Free text written to the recording's metadata file. */
  readonly metadata?: string;
  readonly flags?: readonly string[];
}

export interface NgStatisticsReply extends NgReplyBase {
  readonly statistics?: TextBencode;
}

/** Command name → [request, reply]. Names are rtpengine's command strings. */
export interface NgCommands {
  ping: [Record<string, never>, NgReplyBase];
  offer: [NgOfferRequest, NgSdpReply];
  answer: [NgAnswerRequest, NgSdpReply];
  delete: [NgDeleteRequest, NgCallStatsReply];
  query: [NgCallRequest & { readonly 'from-tag'?: string }, NgCallStatsReply];
  list: [NgListRequest, NgListReply];
  'play media': [NgPlayMediaRequest, NgPlayMediaReply];
  'stop media': [NgCallRequest & NgPartySelector, NgStopMediaReply];
  'block media': [NgMediaControlRequest, NgReplyBase];
  'unblock media': [NgMediaControlRequest, NgReplyBase];
  'block DTMF': [NgMediaControlRequest, NgReplyBase];
  'unblock DTMF': [NgMediaControlRequest, NgReplyBase];
  'silence media': [NgMediaControlRequest, NgReplyBase];
  'unsilence media': [NgMediaControlRequest, NgReplyBase];
  'subscribe request': [NgSubscribeRequest, NgSubscribeReply];
  'subscribe answer': [NgSubscribeAnswerRequest, NgReplyBase];
  unsubscribe: [NgUnsubscribeRequest, NgReplyBase];
  'start recording': [NgRecordingRequest, NgReplyBase];
  'stop recording': [NgRecordingRequest, NgReplyBase];
  statistics: [Record<string, never>, NgStatisticsReply];
}

export type NgCommand = keyof NgCommands;
export type NgRequest<C extends NgCommand> = NgCommands[C][0];
export type NgResponse<C extends NgCommand> = NgCommands[C][1];

/** Fields a successful reply must have, checked at run time so the types above do not lie. */
export const REQUIRED_REPLY_FIELDS: Partial<Record<NgCommand, readonly { readonly key: string; readonly type: 'string' | 'list' }[]>> = {
  offer: [{ key: 'sdp', type: 'string' }],
  answer: [{ key: 'sdp', type: 'string' }],
  'subscribe request': [{ key: 'sdp', type: 'string' }],
  list: [{ key: 'calls', type: 'list' }],
};
