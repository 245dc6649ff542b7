/**
 * Parsing SIP messages from the network, RFC 3261 §7 and §25 (grammar),
 * §18.3 (framing: Content-Length, datagrams), §8.2.2 and §16.3 (what makes a
 * request unprocessable), with the robustness cases of RFC 4475 in mind: line
 * folding, compact forms, odd but legal whitespace are accepted; bad start
 * lines, missing or duplicated mandatory headers, mismatched CSeq, overlarge
 * scalars and truncated bodies are refused with a reason.
 */
import { SINGLE_HEADERS, TOKEN_RE, headerKey } from './header-names.js';
import { parseNameAddr, splitList, tagOf } from './name-addr.js';
import { SipHeaders, parseCSeq, type HeaderField, type SipRequest, type SipResponse } from './sip-message.js';
import { parseUri } from './uri.js';
import { parseVia, type Via } from './via.js';

/** What the transaction and dialog layers need from every message, validated once. */
export interface MessageInfo {
  readonly callId: string;
  readonly cseq: number;
  readonly cseqMethod: string;
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  /** The topmost Via. */
  readonly via: Via;
}

export type ParseResult =
  | { readonly ok: true; readonly message: SipRequest; readonly info: MessageInfo }
  | { readonly ok: true; readonly message: SipResponse; readonly info: MessageInfo }
  | {
      readonly ok: false;
      /** Why the message was refused (used as the response reason and in logs). */
      readonly reason: string;
      /** Status to answer with when the message was a request we can answer (400, 505, 513). */
      readonly status: number;
      /** Present when the message was recognisably a request: what a response can be built from. */
      readonly request?: { readonly method: string; readonly headers: SipHeaders };
    };

export interface ParseOptions {
  /** From a stream transport: the framer has already cut the message at Content-Length. */
  readonly stream?: boolean;
  readonly maxBytes?: number;
}

const METHOD_RE = TOKEN_RE;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/** Where the header section ends: index of the blank line and the length of the separator. */
export function findHeaderEnd(buf: Buffer, from = 0): { index: number; sepLength: number } | undefined {
  const crlf = buf.indexOf(CRLFCRLF, from);
  const lf = buf.indexOf(LFLF, from);
  if (crlf < 0 && lf < 0) return undefined;
  if (lf >= 0 && (crlf < 0 || lf < crlf)) {
    // "\r\n\n" also ends headers
    return { index: lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf, sepLength: lf > 0 && buf[lf - 1] === 0x0d ? 3 : 2 };
  }
  return { index: crlf, sepLength: 4 };
}

function fail(reason: string, status = 400, request?: { method: string; headers: SipHeaders }): ParseResult {
  return request === undefined ? { ok: false, reason, status } : { ok: false, reason, status, request };
}

/** Parses one message (a datagram, or a message cut from a stream by the framer). */
export function parseMessage(buf: Buffer, options: ParseOptions = {}): ParseResult {
  let start = 0;
  // RFC 3261 §7.5: ignore CRLFs before the start line.
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  const end = findHeaderEnd(buf, start);
  if (end === undefined) return fail('no end of header section');
  const headText = buf.toString('utf8', start, end.index);
  const lines = headText.split(/\r?\n/);
  const first = lines[0] ?? '';

  let kind: 'request' | 'response';
  let method = '';
  let uri = '';
  let status = 0;
  let reason = '';
  if (first.startsWith('SIP/')) {
    kind = 'response';
    const m = /^SIP\/(\d+\.\d+) (\d{3}) ?(.*)$/.exec(first);
    if (m === null) return fail('malformed status line');
    if (m[1] !== '2.0') return fail('unsupported SIP version');
    status = Number(m[2]);
    reason = m[3] ?? '';
    if (status < 100 || status > 699) return fail('status code out of range');
  } else {
    kind = 'request';
    const parts = first.split(' ');
    if (parts.length !== 3) {
      // Without a parseable start line nothing can be answered.
      const maybe = parts[0] ?? '';
      return METHOD_RE.test(maybe) ? fail('malformed request line', 400, { method: maybe, headers: headersOnly(lines) }) : fail('malformed start line');
    }
    [method, uri] = [parts[0]!, parts[1]!];
    if (!METHOD_RE.test(method)) return fail('malformed request line');
    const version = parts[2]!;
    if (!/^SIP\/\d+\.\d+$/.test(version)) return fail('malformed request line', 400, { method, headers: headersOnly(lines) });
    if (version !== 'SIP/2.0') return fail('SIP version not supported', 505, { method, headers: headersOnly(lines) });
  }

  // Header fields, unfolding continuation lines (RFC 3261 §7.3.1).
  const fields: HeaderField[] = [];
  let badHeader: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const c = line.charCodeAt(0);
    if (c === 0x20 || c === 0x09) {
      const prev = fields[fields.length - 1];
      if (prev === undefined) {
        badHeader ??= 'continuation line before any header';
        continue;
      }
      prev.value = `${prev.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      badHeader ??= `malformed header line "${line.slice(0, 40)}"`;
      continue;
    }
    const name = line.slice(0, colon).trimEnd();
    if (!TOKEN_RE.test(name)) {
      badHeader ??= `malformed header name "${name.slice(0, 40)}"`;
      continue;
    }
    fields.push({ name, key: headerKey(name), value: line.slice(colon + 1).trim() });
  }
  const headers = new SipHeaders(fields);
  const req = kind === 'request' ? { method, headers } : undefined;
  if (badHeader !== undefined) return fail(badHeader, 400, req);

  if (options.maxBytes !== undefined && buf.length > options.maxBytes) {
    return fail('message too large', 513, req);
  }

  // Mandatory headers (§8.1.1) and headers that may appear only once.
  const counts = new Map<string, number>();
  for (const f of fields) if (SINGLE_HEADERS.has(f.key)) counts.set(f.key, (counts.get(f.key) ?? 0) + 1);
  for (const [key, n] of counts) {
    if (n > 1) return fail(`duplicate ${key} header`, 400, req);
  }
  const callId = headers.get('call-id');
  const cseqText = headers.get('cseq');
  const from = headers.get('from');
  const to = headers.get('to');
  const viaValues = headers.entries('via');
  const missing = [
    callId === undefined ? 'Call-ID' : undefined,
    cseqText === undefined ? 'CSeq' : undefined,
    from === undefined ? 'From' : undefined,
    to === undefined ? 'To' : undefined,
    viaValues.length === 0 ? 'Via' : undefined,
  ].filter((x) => x !== undefined);
  if (missing.length > 0) return fail(`missing ${missing.join(', ')}`, 400, req);
  if (callId === '' || /[\s]/.test(callId!)) return fail('malformed Call-ID', 400, req);
  const cseq = parseCSeq(cseqText!);
  if (cseq === undefined) return fail('malformed CSeq', 400, req);
  const via = parseVia(viaValues[0]!);
  if (via === undefined) return fail('malformed Via', 400, req);
  for (const v of viaValues.slice(1)) if (parseVia(v) === undefined) return fail('malformed Via', 400, req);
  const fromNa = parseNameAddr(from!);
  if (fromNa === undefined) return fail('malformed From', 400, req);
  const toNa = parseNameAddr(to!);
  if (toNa === undefined) return fail('malformed To', 400, req);
  if (parseUri(fromNa.uri) === undefined) return fail('malformed From URI', 400, req);
  if (parseUri(toNa.uri) === undefined) return fail('malformed To URI', 400, req);

  if (kind === 'request') {
    if (cseq.method !== method) return fail('CSeq method does not match the request method', 400, req);
    const ruri = parseUri(uri);
    if (ruri === undefined) return fail('malformed Request-URI', 400, req);
    // §19.1.1: the headers component is not allowed in a Request-URI.
    if (ruri.kind === 'sip' && ruri.uri.headers !== undefined) return fail('headers not allowed in Request-URI', 400, req);
    const mf = headers.get('max-forwards');
    if (mf !== undefined && (!/^\d{1,3}$/.test(mf) || Number(mf) > 255)) return fail('malformed Max-Forwards', 400, req);
    const problem = checkOtherHeaders(headers);
    if (problem !== undefined) return fail(problem, 400, req);
    if (fromNa.params.get('tag') === undefined && method !== 'CANCEL' && method !== 'ACK') {
      // §8.1.1.3: the From tag is mandatory in requests from RFC 3261 UAs.
      return fail('missing From tag', 400, req);
    }
  }

  // Body and Content-Length (§18.3, §20.14).
  const bodyStart = end.index + end.sepLength;
  const clText = headers.get('content-length');
  let body: Buffer;
  if (clText !== undefined) {
    if (!/^\d{1,9}$/.test(clText)) return fail('malformed Content-Length', 400, req);
    const cl = Number(clText);
    if (bodyStart + cl > buf.length) return fail('Content-Length larger than the message body', 400, req);
    // Extra bytes after Content-Length in a datagram are discarded (§18.3).
    body = buf.subarray(bodyStart, bodyStart + cl);
  } else {
    if (options.stream === true) return fail('missing Content-Length on a stream transport', 400, req);
    body = buf.subarray(bodyStart);
  }

  const info: MessageInfo = {
    callId: callId!,
    cseq: cseq.seq,
    cseqMethod: cseq.method,
    fromTag: fromNa.params.get('tag') ?? undefined,
    toTag: toNa.params.get('tag') ?? tagOf(to!),
    via,
  };
  if (kind === 'request') return { ok: true, message: { kind, method, uri, headers, body }, info };
  return { ok: true, message: { kind, status, reason, headers, body }, info };
}

/** A best-effort header list from a message whose start line is bad, to build a 400 from. */
function headersOnly(lines: string[]): SipHeaders {
  const fields: HeaderField[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.startsWith(' ') || line.startsWith('\t')) continue;
    const name = line.slice(0, colon).trim();
    if (TOKEN_RE.test(name)) fields.push({ name, key: headerKey(name), value: line.slice(colon + 1).trim() });
  }
  return new SipHeaders(fields);
}

/** Syntax of other headers whose values a UA interprets (RFC 4475 §3.1.2.4, §3.1.2.13). */
function checkOtherHeaders(headers: SipHeaders): string | undefined {
  const expires = headers.get('expires');
  if (expires !== undefined && (!/^\d{1,10}$/.test(expires) || Number(expires) > 0xffffffff)) return 'malformed Expires';
  for (const value of headers.values('contact')) {
    if (value.trim() === '*') continue;
    for (const entry of splitList(value)) {
      const na = parseNameAddr(entry);
      if (na === undefined || parseUri(na.uri) === undefined) return 'malformed Contact';
      // §20.10: an addr-spec containing ',' '?' or ';' must be in angle brackets.
      if (!na.bracketed && /[?,]/.test(na.uri)) return 'malformed Contact';
      const exp = na.params.get('expires');
      if (exp !== undefined && exp !== null && (!/^\d{1,10}$/.test(exp) || Number(exp) > 0xffffffff)) return 'malformed Contact expires';
    }
  }
  for (const name of ['record-route', 'route'] as const) {
    for (const entry of headers.entries(name)) {
      const na = parseNameAddr(entry);
      if (na === undefined || !na.bracketed) return `malformed ${name === 'route' ? 'Route' : 'Record-Route'}`;
    }
  }
  return undefined;
}
