/**
 * Parsing SIP messages from the network: RFC 3261 §7 (message format), §25
 * (grammar), §18.3 (framing: Content-Length, datagrams), §8.1.1 and §8.2.2
 * (what makes a request unprocessable), with the robustness cases of RFC 4475.
 * Odd but legal input (folding, compact forms, unusual whitespace, leading
 * zeros, escapes, unknown headers and schemes, bare LF line ends) is
 * accepted. A request that violates the grammar is refused with a status
 * (400, 505, 513) and, when a response can be formed, the headers to build it
 * from; a malformed response is only refused (RFC 4475: drop it). Where the
 * RFCs leave a choice the code says CHOICE; docs/sip-server.md lists them.
 */
import { isUtf8 } from 'node:buffer';
import { parseDecimal } from './decimal.js';
import { checkAddressHeaders, checkScalars } from './header-checks.js';
import { SINGLE_HEADERS } from './header-names.js';
import { findHeaderEnd, hasControlChar, mayHoldControlChars, parseHeaderLines, splitLines } from './header-section.js';
import { parseNameAddr, splitListStrict, type NameAddr } from './name-addr.js';
import { SipHeaders, parseCSeq, type HeaderField, type SipRequest, type SipResponse } from './sip-message.js';
import { parseUri } from './uri.js';
import { parseVia, type Via } from './via.js';

export { findHeaderEnd } from './header-section.js';

/** What the transaction and dialog layers need from every message, validated once. */
export interface MessageInfo {
  readonly callId: string;
  readonly cseq: number;
  readonly cseqMethod: string;
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  /** The topmost Via. */
  readonly via: Via;
  /** How many Via entries the message has (more than one on a request: a proxy relayed it). */
  readonly viaCount: number;
}

export type ParseResult =
  | { readonly ok: true; readonly message: SipRequest; readonly info: MessageInfo }
  | { readonly ok: true; readonly message: SipResponse; readonly info: MessageInfo }
  | {
      readonly ok: false;
      /** Why the message was refused: plain ASCII quoting no received text, so it can be a Reason-Phrase. */
      readonly reason: string;
      /** Status to answer with when the message was a request we can answer (400, 505, 513). */
      readonly status: number;
      /**
       * Present when the message was recognisably a request and a response can
       * be built from its headers: duplicates of single-value headers removed,
       * and absent when a header a response copies (§8.2.6.2) holds characters
       * that would make the response itself malformed.
       */
      readonly request?: AnswerableRequest;
    };

/**
 * What a response to a refused request is built from. `binary`: the header
 * section was not valid UTF-8, so the values are its bytes one char each
 * (latin1) and the response must be written the same way, to copy them exactly.
 */
export interface AnswerableRequest {
  readonly method: string;
  readonly headers: SipHeaders;
  readonly binary?: boolean;
}

export interface ParseOptions {
  /** From a stream transport: the framer has already cut the message at Content-Length. */
  readonly stream?: boolean;
  readonly maxBytes?: number;
}

/** The headers copied from a request into a response (RFC 3261 §8.2.6.2). */
const ECHOED: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
// CHOICE: SIP-Version is case-insensitive (§7.1); a status line without reason phrase or its SP is accepted.
const STATUS_LINE_RE = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/i;
const METHOD_THEN_WS_RE = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]/;
/** A start line that ends like a Request-Line: `… SP SIP/x.y`, with something before. */
const SIP_VERSION_END_RE = /^.*\S.*[ \t]SIP\/\d+\.\d+$/i;
/** Content-Length is a byte count; anything beyond 2**31 cannot be a SIP message. */
const MAX_CONTENT_LENGTH = 0x7fffffff;

type Refusal = Extract<ParseResult, { ok: false }>;

function fail(reason: string, status = 400, request?: AnswerableRequest): Refusal {
  return request === undefined ? { ok: false, reason, status } : { ok: false, reason, status, request };
}

/** Parses one message (a datagram, or a message cut from a stream by the framer). Never throws. */
export function parseMessage(buf: Buffer, options: ParseOptions = {}): ParseResult {
  let start = 0;
  // §7.5: CRLFs before the start line are ignored.
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) return fail('empty message');
  const end = findHeaderEnd(buf, start);
  const headEnd = end === undefined ? buf.length : end.index;
  const text = buf.toString('utf8', start, headEnd);
  const lines = splitLines(text);
  const first = lines[0]!;
  const section = parseHeaderLines(lines, mayHoldControlChars(text));
  const headers = new SipHeaders(section.fields);
  // §25.1 text is UTF-8. Decoding replaced any invalid sequence with U+FFFD, so the text no longer
  // says what was received: such a message is refused, and never echoed (see answerable).
  const badUtf8 = text.includes('\ufffd') && !isUtf8(buf.subarray(start, headEnd));
  // The bytes themselves, for a response that must echo them (§8.2.6.2) though they do not decode.
  const rawHeaders = (): SipHeaders => new SipHeaders(parseHeaderLines(splitLines(buf.toString('latin1', start, headEnd)), false).fields);

  let request: { method: string; uri: string } | undefined;
  let status = 0;
  let reason = '';
  if (/^SIP\//i.test(first)) {
    const m = STATUS_LINE_RE.exec(first);
    if (m === null) return fail('malformed Status-Line');
    if (m[1] !== '2.0') return fail('SIP version not supported', 505);
    status = Number(m[2]);
    // RFC 4475 §3.1.2.19: codes beyond 699 are dropped.
    if (status < 100 || status > 699) return fail('status code out of range');
    reason = m[3] ?? '';
  } else {
    const rl = parseRequestLine(first);
    if ('error' in rl) return fail(rl.error, rl.status, rl.method === undefined ? undefined : answerable(rl.method, badUtf8 ? rawHeaders() : headers, badUtf8));
    request = rl;
  }
  const refuse = (why: string, code = 400): Refusal =>
    fail(why, code, request === undefined ? undefined : answerable(request.method, badUtf8 ? rawHeaders() : headers, badUtf8));

  if (options.maxBytes !== undefined && buf.length > options.maxBytes) return refuse('message too large', 513);
  if (section.problem !== undefined) return refuse(section.problem);
  if (badUtf8) return refuse('header section is not valid UTF-8');
  // §7: the empty line MUST be present even without a body.
  if (end === undefined) return refuse('no empty line after the header section');

  const checked = checkMandatory(headers);
  if (typeof checked === 'string') return refuse(checked);
  const { callId, cseq, via, viaCount, from, to } = checked;

  if (request !== undefined) {
    if (cseq.method !== request.method) return refuse('CSeq method does not match the request method');
    const ruri = parseUri(request.uri);
    if (ruri === undefined) return refuse('malformed Request-URI');
    // §19.1.1: the headers component is not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if (ruri.kind === 'sip' && ruri.uri.headers !== undefined) return refuse('headers not allowed in the Request-URI');
    const problem = checkScalars(headers) ?? checkAddressHeaders(headers);
    if (problem !== undefined) return refuse(problem);
    // §8.1.1.3: RFC 3261 UAs always put a From tag in requests.
    // CHOICE: the RFC 2543 form without one (RFC 4475 §3.4.1) is refused, except for ACK and CANCEL.
    if (from.params.get('tag') === undefined && request.method !== 'CANCEL' && request.method !== 'ACK') return refuse('missing From tag');
  } else {
    const problem = checkScalars(headers);
    if (problem !== undefined) return refuse(problem);
  }

  // Body and Content-Length (§18.3, §20.14).
  const bodyStart = end.index + end.sepLength;
  const clText = headers.get('content-length');
  let body: Buffer;
  if (clText !== undefined) {
    const cl = parseDecimal(clText, MAX_CONTENT_LENGTH);
    if (cl === undefined) return refuse('malformed Content-Length');
    // RFC 4475 §3.1.2.2: a body shorter than Content-Length is an error, never a partial message.
    if (bodyStart + cl > buf.length) return refuse('Content-Length larger than the message body');
    // §18.3: extra bytes after Content-Length in a datagram are discarded.
    body = buf.subarray(bodyStart, bodyStart + cl);
  } else {
    if (options.stream === true) return refuse('missing Content-Length on a stream transport');
    body = buf.subarray(bodyStart);
  }

  const info: MessageInfo = {
    callId,
    cseq: cseq.seq,
    cseqMethod: cseq.method,
    fromTag: from.params.get('tag') ?? undefined,
    toTag: to.params.get('tag') ?? undefined,
    via,
    viaCount,
  };
  if (request !== undefined) return { ok: true, message: { kind: 'request', method: request.method, uri: request.uri, headers, body }, info };
  return { ok: true, message: { kind: 'response', status, reason, headers, body }, info };
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version (§7.1, §25.1): exactly
 * two single SPs, no trailing whitespace (RFC 4475 §3.1.2.9, §3.1.2.10), no
 * LWS in the URI (§3.1.2.8). When the line at least starts with a method
 * token and whitespace it is a request we can answer; otherwise nothing tells
 * it is a request and it is dropped.
 */
function parseRequestLine(line: string): { method: string; uri: string } | { error: string; status: number; method: string | undefined } {
  const m = METHOD_THEN_WS_RE.exec(line);
  if (m === null) {
    // Not a method token (a control character in it, a leading space), yet ending in SIP-Version:
    // a request all the same, answerable if its headers allow; the method is unknown, not ACK.
    return { error: 'malformed start line', status: 400, method: SIP_VERSION_END_RE.test(line) ? '' : undefined };
  }
  const method = m[1]!;
  const sp1 = method.length;
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (line.charCodeAt(sp1) !== 0x20 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) return { error: 'malformed Request-Line', status: 400, method };
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!/^SIP\/\d+\.\d+$/i.test(version)) return { error: 'malformed Request-Line', status: 400, method };
  // RFC 4475 §3.1.2.16: a well-formed but unknown version gets 505.
  if (version.toUpperCase() !== 'SIP/2.0') return { error: 'SIP version not supported', status: 505, method };
  return { method, uri };
}

interface Mandatory {
  readonly callId: string;
  readonly cseq: { seq: number; method: string };
  readonly via: Via;
  readonly viaCount: number;
  readonly from: NameAddr;
  readonly to: NameAddr;
}

/** §8.1.1: To, From, CSeq, Call-ID and Via, each once (but Via), each well-formed. */
function checkMandatory(headers: SipHeaders): Mandatory | string {
  const counts = new Map<string, number>();
  for (const f of headers.fields) if (SINGLE_HEADERS.has(f.key)) counts.set(f.key, (counts.get(f.key) ?? 0) + 1);
  for (const [key, n] of counts) if (n > 1) return `duplicate ${key} header`;
  const callId = headers.get('call-id');
  const cseqText = headers.get('cseq');
  const fromText = headers.get('from');
  const toText = headers.get('to');
  const viaFields = headers.values('via');
  const missing = [
    toText === undefined ? 'To' : undefined,
    fromText === undefined ? 'From' : undefined,
    callId === undefined ? 'Call-ID' : undefined,
    cseqText === undefined ? 'CSeq' : undefined,
    viaFields.length === 0 ? 'Via' : undefined,
  ].filter((x) => x !== undefined);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  // CHOICE: Call-ID is compared as an opaque string; only emptiness and whitespace are refused.
  if (callId === '' || /\s/.test(callId!)) return 'malformed Call-ID';
  const cseq = parseCSeq(cseqText!);
  // RFC 4475 §3.1.2.4: a CSeq number of 2**31 or more is refused, not wrapped.
  if (cseq === undefined) return /^\d+[ \t]+[A-Za-z0-9\-.!%*_+`'~]+$/.test(cseqText!) ? 'CSeq number out of range' : 'malformed CSeq';
  let top: Via | undefined;
  let viaCount = 0;
  for (const value of viaFields) {
    const entries = splitListStrict(value);
    if (entries === undefined) return 'malformed Via';
    for (const e of entries) {
      const v = parseVia(e);
      if (v === undefined) return 'malformed Via';
      top ??= v;
      viaCount++;
    }
  }
  const from = parseNameAddr(fromText!);
  if (from === undefined || parseUri(from.uri) === undefined) return 'malformed From';
  const to = parseNameAddr(toText!);
  if (to === undefined || parseUri(to.uri) === undefined) return 'malformed To';
  // tag-param = "tag" EQUAL token
  if (from.params.get('tag') === null) return 'malformed From tag';
  if (to.params.get('tag') === null) return 'malformed To tag';
  return { callId: callId!, cseq, via: top!, viaCount, from, to };
}

/**
 * What a response to a refused request is built from (see {@link ParseResult}).
 * With `binary` the values are latin1 strings of the received bytes, which a
 * response can copy exactly whatever they hold.
 */
function answerable(method: string, headers: SipHeaders, binary: boolean): AnswerableRequest | undefined {
  const seen = new Set<string>();
  const fields: HeaderField[] = [];
  // An unreadable method: the CSeq says which (an ACK is never answered, §17.2.1).
  const cseqMethod = method === '' ? parseCSeq(headers.get('cseq') ?? '')?.method : method;
  if (cseqMethod === 'ACK') return undefined;
  for (const f of headers.fields) {
    // A response must copy these exactly (§8.2.6.2); a control character would make it malformed.
    if (ECHOED.has(f.key) && hasControlChar(f.value)) return undefined;
    if (SINGLE_HEADERS.has(f.key)) {
      if (seen.has(f.key)) continue;
      seen.add(f.key);
    }
    fields.push(f);
  }
  const out = { method: cseqMethod ?? method, headers: new SipHeaders(fields) };
  return binary ? { ...out, binary: true } : out;
}

