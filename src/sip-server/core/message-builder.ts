/**
 * Building the messages the server puts on the wire: responses from a stored
 * request (RFC 3261 §8.2.6), ACK for non-2xx (§17.1.1.3), CANCEL (§9.1), and
 * the header rules for what apps may supply (drachtio spec §2.7).
 */
import { canonicalName, headerKey } from '../message/header-names.js';
import { parseNameAddr, tagOf, withTag } from '../message/name-addr.js';
import { SipHeaders, type HeaderField, type SipRequest, type SipResponse } from '../message/sip-message.js';
import { formatHostPort } from '../message/uri.js';
import type { ListenerInfo } from '../transport/types.js';

/** Standard reason phrases for the responses the server generates itself. */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  183: 'Session Progress',
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  422: 'Session Interval Too Small',
  469: 'Bad Info Package',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  487: 'Request Terminated',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'Version Not Supported',
  513: 'Message Too Large',
};

/** Headers an app may never set: the server owns them (spec §2.7). */
const SERVER_OWNED = new Set(['via', 'route', 'record-route', 'rseq', 'content-length']);
/** Headers copied from the request into every response (§8.2.6.2). */
const FROM_REQUEST = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
/** Methods whose 101–299 responses to an out-of-dialog request establish a dialog (§12.1, RFC 6665, RFC 3515). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

export function hostPortOf(listener: ListenerInfo): string {
  return formatHostPort(listener.advertisedHost, listener.port);
}

/**
 * Our Contact for a listener (spec §2.8). `secure` when the dialog or request
 * is SIPS (RFC 3261 §8.1.1.8, §12.1.1; RFC 5630 §5.1): then the Contact is a
 * SIPS URI, which means TLS by itself. CHOICE: a `sip:` dialog over TLS gets
 * `;transport=tls`, which RFC 5630 §5.1 tells UAs not to use, because without
 * it a `sip:` Contact names UDP (RFC 3263 §4.1) and the peer could not reach
 * us; drachtio-server and most SIP servers write it too.
 */
export function contactFor(listener: ListenerInfo, secure = false): string {
  const t = listener.transport;
  if (secure && (t === 'tls' || t === 'wss')) return `<sips:${hostPortOf(listener)}${t === 'wss' ? ';transport=wss' : ''}>`;
  return `<sip:${hostPortOf(listener)}${t === 'udp' ? '' : `;transport=${t}`}>`;
}

/** A SIPS URI (RFC 3261 §19.1), bare or in a name-addr, the scheme checked case-insensitively. */
export function isSips(value: string | undefined): boolean {
  if (value === undefined) return false;
  const uri = /^\s*sips?:/i.test(value) ? value : parseNameAddr(value)?.uri;
  return uri !== undefined && /^\s*sips:/i.test(uri);
}

/**
 * Whether the responses establishing a dialog for `request` must carry a SIPS
 * Contact (RFC 3261 §12.1.1): its Request-URI, else its top Record-Route,
 * else (without Record-Route) its Contact is SIPS.
 */
export function requestIsSecure(request: SipRequest): boolean {
  if (isSips(request.uri)) return true;
  const rr = request.headers.entries('record-route')[0];
  if (rr !== undefined) return isSips(rr);
  return isSips(request.headers.entries('contact')[0]);
}

export function viaFor(listener: ListenerInfo, branch: string): string {
  return `SIP/2.0/${listener.transport.toUpperCase()} ${hostPortOf(listener)};branch=${branch};rport`;
}

/** `sip:1234@localhost` (what drachtio-srf emits) → our reachable address. */
export function replaceLocalhost(value: string, listener: ListenerInfo): string {
  if (!value.includes('localhost')) return value;
  const hp = hostPortOf(listener);
  return value.replace(/@localhost(?::\d+)?(?=[;>?\s]|$)/g, `@${hp}`).replace(/sips?:localhost(?::\d+)?(?=[;>?\s]|$)/g, (m) => `${m.startsWith('sips') ? 'sips' : 'sip'}:${hp}`);
}

/**
 * A Contact we rewrote to our address must also say how to reach us: on a
 * stream listener, add `;transport=tcp` when the URI names no transport.
 */
export function withTransport(contact: string, listener: ListenerInfo): string {
  if (listener.transport === 'udp' || /;\s*transport=/i.test(contact)) return contact;
  // A SIPS URI already means TLS.
  if (listener.transport === 'tls' && isSips(contact)) return contact;
  const gt = contact.indexOf('>');
  return gt >= 0 ? `${contact.slice(0, gt)};transport=${listener.transport}${contact.slice(gt)}` : `<${contact}>;transport=${listener.transport}`;
}

/** Content-Type sniffing (spec §2.1): a body that starts with `v=0` is SDP. */
export function sniffContentType(body: Buffer): string | undefined {
  return body.length >= 3 && body[0] === 0x76 && body[1] === 0x3d && body[2] === 0x30 ? 'application/sdp' : undefined;
}

/**
 * The Content-Type field for an app's body: the app's own, or sniffed SDP;
 * none for an empty body; `'missing'` when a body has no type we can give it
 * (the app then gets `NOK|missing content-type`, spec §2.1).
 */
export function contentTypeField(fields: readonly HeaderField[], body: Buffer): HeaderField | 'missing' | undefined {
  if (body.length === 0) return undefined;
  const type = fields.find((f) => f.key === 'content-type')?.value ?? sniffContentType(body);
  return type === undefined ? 'missing' : { name: 'Content-Type', key: 'content-type', value: type };
}

/**
 * The app's headers that may go on the wire: everything but the server-owned
 * ones, minus `skip` (headers the builder sets itself), with values containing
 * line breaks dropped and `@localhost` rewritten where it names us.
 */
export function appHeaders(fields: readonly HeaderField[], skip: ReadonlySet<string>, listener: ListenerInfo): HeaderField[] {
  const out: HeaderField[] = [];
  for (const f of fields) {
    if (SERVER_OWNED.has(f.key) || skip.has(f.key)) continue;
    if (/[\r\n]/.test(f.value)) continue;
    let value = f.key === 'contact' || f.key === 'p-asserted-identity' || f.key === 'from' || f.key === 'to' ? replaceLocalhost(f.value, listener) : f.value;
    if (f.key === 'contact' && value !== f.value) value = withTransport(value, listener);
    out.push({ name: canonicalName(f.name), key: f.key, value });
  }
  return out;
}

export interface ResponseOptions {
  readonly toTag?: string | undefined;
  readonly reason?: string;
  /** Further headers (already filtered), appended after the copied ones. */
  readonly headers?: readonly HeaderField[];
  readonly body?: Buffer;
}

/**
 * A response to `request`: Via, From, To (+tag), Call-ID and CSeq copied from
 * it (§8.2.6.2), and Record-Route when the response establishes a dialog (§12.1.1).
 */
export function buildResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const fields: HeaderField[] = [];
  // §12.1.1: a response that establishes a dialog carries every Record-Route of
  // the request, in order, so the caller's side learns the same route set.
  const establishesDialog = status > 100 && status < 300 && DIALOG_CREATING.has(request.method) && tagOf(request.headers.get('to') ?? '') === undefined;
  for (const f of request.headers.fields) {
    if (f.key === 'record-route' && establishesDialog) {
      fields.push({ name: f.name, key: f.key, value: f.value });
      continue;
    }
    if (!FROM_REQUEST.has(f.key)) continue;
    if (f.key === 'to' && options.toTag !== undefined && status > 100) {
      fields.push({ name: f.name, key: f.key, value: withTag(f.value, options.toTag) });
    } else {
      fields.push({ name: f.name, key: f.key, value: f.value });
    }
  }
  for (const f of options.headers ?? []) fields.push(f);
  return {
    kind: 'response',
    status,
    reason: options.reason ?? REASONS[status] ?? 'Unknown',
    headers: new SipHeaders(fields),
    body: options.body ?? Buffer.alloc(0),
  };
}

/** ACK for a non-2xx final response (§17.1.1.3): same R-URI, top Via, Route; To from the response. */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const h = new SipHeaders();
  const topVia = invite.headers.entries('via')[0];
  if (topVia !== undefined) h.append('Via', topVia);
  h.append('Max-Forwards', '70');
  for (const name of ['from', 'call-id']) {
    const v = invite.headers.get(name);
    if (v !== undefined) h.append(name, v);
  }
  h.append('To', response.headers.get('to') ?? invite.headers.get('to') ?? '');
  const cseq = (invite.headers.get('cseq') ?? '').split(/\s+/)[0] ?? '1';
  h.append('CSeq', `${cseq} ACK`);
  for (const r of invite.headers.values('route')) h.append('Route', r);
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}

/** CANCEL for a pending INVITE (§9.1), with extra app headers (e.g. Reason). */
export function buildCancel(invite: SipRequest, extra: readonly HeaderField[]): SipRequest {
  const h = new SipHeaders();
  const topVia = invite.headers.entries('via')[0];
  if (topVia !== undefined) h.append('Via', topVia);
  h.append('Max-Forwards', '70');
  for (const name of ['from', 'to', 'call-id']) {
    const v = invite.headers.get(name);
    if (v !== undefined) h.append(name, v);
  }
  const cseq = (invite.headers.get('cseq') ?? '').split(/\s+/)[0] ?? '1';
  h.append('CSeq', `${cseq} CANCEL`);
  for (const r of invite.headers.values('route')) h.append('Route', r);
  const forbidden = new Set(['from', 'to', 'contact', 'p-asserted-identity', 'call-id', 'cseq', 'max-forwards', 'content-type']);
  for (const f of extra) if (!forbidden.has(f.key)) h.fields.push(f);
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}

/**
 * A response to a request we could not fully parse (RFC 3261 §8.2.x: 400,
 * 505, 513): copy what the request had of Via, From, To, Call-ID and CSeq.
 */
export function buildErrorResponse(headers: SipHeaders, status: number, reason: string, server: string): SipResponse {
  const fields: HeaderField[] = [];
  for (const f of headers.fields) if (FROM_REQUEST.has(f.key)) fields.push({ name: f.name, key: f.key, value: f.value });
  fields.push({ name: 'Server', key: headerKey('server'), value: server });
  return { kind: 'response', status, reason, headers: new SipHeaders(fields), body: Buffer.alloc(0) };
}
