/**
 * The frames the server sends to apps (spec §1.5, §1.6), in the exact token
 * layouts drachtio-srf reads. Every `sip` frame has at least 11 tokens (the
 * dialog-id slot and a trailing `|`), or drachtio-srf silently drops it.
 * Transports are named as the reference names them (WS as tcp, WSS as tls).
 */
import { stackTime } from '../control/framing.js';
import { wireProtocolName, type Destination, type Flow, type ListenerInfo } from '../transport/types.js';

const CRLF = '\r\n';

/** SIP received from the network. `receivedOn` is given for new out-of-dialog requests. */
export function networkSipFrame(
  text: string,
  bytes: number,
  flow: Flow,
  txnId: string,
  dialogId: string,
  receivedOn?: ListenerInfo,
): string {
  const on = receivedOn !== undefined ? `${receivedOn.host}|${receivedOn.port}|` : '';
  return `sip|network|${bytes}|${wireProtocolName(flow.transport)}|${flow.address}|${flow.port}|${stackTime()}|${txnId}|${dialogId}|${on}${CRLF}${text}`;
}

/** Positive echo of a request the server sent for the app. */
export function requestEcho(text: string, bytes: number, dest: Destination, txnId: string): string {
  return `OK|application|${bytes}|${wireProtocolName(dest.transport)}|${dest.address}|${dest.port}|${stackTime()}|${txnId}|Msg sent:|${CRLF}${text}`;
}

/** Positive echo of a response the server sent for the app (carries the dialog id). */
export function responseEcho(text: string, bytes: number, dest: Destination, txnId: string, dialogId: string): string {
  return `OK|application|${bytes}|${wireProtocolName(dest.transport)}|${dest.address}|${dest.port}|${stackTime()}|${txnId}|${dialogId}||Msg sent:|${CRLF}${text}`;
}

/** A BYE the server sent on its own (ACK timeout, cancel race, ...). */
export function unsolicitedFrame(text: string, bytes: number, dest: Destination, dialogId: string): string {
  return `sip|application|${bytes}|${wireProtocolName(dest.transport)}|${dest.address}|${dest.port}|${stackTime()}|unsolicited|${dialogId}|${CRLF}${text}`;
}

export function cdrFrame(type: 'attempt' | 'start' | 'stop', source: 'network' | 'application', text: string, extra?: string): string {
  return `cdr:${type}|${source}|${stackTime()}${extra !== undefined ? `|${extra}` : ''}${CRLF}${text}`;
}
