/**
 * What a WebSocket message may hold under the `sip` subprotocol, RFC 7118
 * §5.1: exactly one SIP message, in a text or a binary frame. The WebSocket
 * message gives the boundary, so Content-Length is optional (as on UDP); when
 * present it must match the message, since bytes before or after it would
 * be a second or partial SIP message. A message of only CR/LF is the RFC 5626
 * §3.5.1 keep-alive some clients send over WebSocket too (a double CRLF is a
 * ping, answered by a single CRLF).
 */
import { findHeaderEnd } from '../message/header-section.js';
import { announcedContentLength } from '../message/stream-framer.js';

export type WsVerdict =
  | { readonly kind: 'sip' }
  | { readonly kind: 'keepalive'; readonly pong: boolean }
  /**
   * Not one whole SIP message: the connection is closed. `notSip` says the
   * bytes are no SIP at all (WebSocket close 1003) rather than a broken SIP
   * framing (1002); `head` is a readable header section to answer 400 from.
   */
  | { readonly kind: 'refuse'; readonly reason: string; readonly notSip: boolean; readonly head?: Buffer };

const STATUS_LINE_START = /^SIP\/\d+\.\d+[ \t]/i;
/** A method token, whitespace, then somewhere a SIP version: the parser decides the rest (400/505). */
const REQUEST_LINE = /^[A-Za-z0-9\-.!%*_+`'~]+[ \t].*\bSIP\/\d/i;

export function checkWsMessage(data: Buffer): WsVerdict {
  let start = 0;
  let lf = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) {
    if (data[start] === 0x0a) lf++;
    start++;
  }
  if (start === data.length) return { kind: 'keepalive', pong: lf >= 2 };
  const lineEnd = data.indexOf(0x0a, start);
  const firstLine = data.toString('latin1', start, lineEnd < 0 ? Math.min(data.length, start + 1024) : Math.min(lineEnd, start + 1024)).replace(/\r$/, '');
  if (!STATUS_LINE_START.test(firstLine) && !REQUEST_LINE.test(firstLine)) return { kind: 'refuse', reason: 'not a SIP message', notSip: true };
  const end = findHeaderEnd(data, start);
  if (end === undefined) return { kind: 'refuse', reason: 'incomplete SIP message (the header section does not end)', notSip: false };
  const headLength = end.index + end.sepLength;
  const head = data.subarray(start, headLength);
  const length = announcedContentLength(data.toString('latin1', start, end.index));
  // A malformed or repeated Content-Length is the parser's to refuse (400): the WebSocket message is the boundary.
  if (typeof length !== 'number') return { kind: 'sip' };
  const total = headLength + length;
  if (total > data.length) return { kind: 'refuse', reason: 'partial SIP message (Content-Length larger than the WebSocket message)', notSip: false, head };
  if (total < data.length) return { kind: 'refuse', reason: 'more than one SIP message in one WebSocket message', notSip: false, head };
  return { kind: 'sip' };
}
