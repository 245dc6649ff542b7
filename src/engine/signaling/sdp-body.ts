/**
 * The SDP in a SIP message body (RFC 3261 §7.4, RFC 5621): the body itself
 * when it is `application/sdp`, or its `application/sdp` part when it is
 * multipart, as carriers send SDP with ISUP (SIP-I / SIP-T, RFC 3204):
 *
 *     Content-Type: multipart/mixed;boundary=b1
 *
 *     --b1
 *     Content-Type: application/sdp
 *
 *     v=0 ...
 *     --b1
 *     Content-Type: application/isup;version=itu-t92+
 *     Content-Disposition: signal;handling=optional
 *
 *     <binary ISUP>
 *     --b1--
 *
 * The parts are found as RFC 2046 §5.1.1 delimits them (a line `--boundary`,
 * the last one `--boundary--`, the line end before each delimiter belonging to
 * it; preamble and epilogue ignored), each with its own header lines, an empty
 * line, then its content; multipart parts nest (RFC 5621 §3.1). Other parts
 * are ignored unless their Content-Disposition says `handling=required`
 * (RFC 3261 §20.11): a required part we cannot read makes the body unreadable,
 * answered 415 with Accept (RFC 3261 §8.2.3, §21.4.13; RFC 5621 §8).
 *
 * A multipart body without an SDP part is unreadable too.
 *
 * CHOICE: a part without a Content-Disposition counts as optional. RFC 3261
 * §20.11 (and RFC 3204, which registers the `signal` disposition and its
 * `handling` parameter for ISUP and QSIG parts) make `required` the default,
 * but carriers leave the disposition off the ISUP part, and the embedded SIP
 * server takes such bodies the same way (src/sip-server/core/uas-checks.ts):
 * the engine, behind any drachtio server, refuses no body that server accepts.
 *
 * The engine reaches the SIP server only through the drachtio protocol and
 * may not import it (docs/architecture.md), so this reads the body as text:
 * the SDP is text, and a binary part only has to be skipped.
 */

/** Media types whose parts are searched for SDP (RFC 5621 §3: mixed; alternative and related read the same way here). */
const MULTIPART = new Set(['multipart/mixed', 'multipart/alternative', 'multipart/related']);
/** What a 415 lists in Accept: SDP, and SDP inside a multipart body. */
export const ACCEPTED_BODY_TYPES = ['application/sdp', ...MULTIPART].join(', ');
/** Multipart bodies nest; deeper than this is not walked (as the SIP server). */
const MAX_DEPTH = 4;

export type BodySdp =
  /** The message has no body. */
  | { readonly kind: 'none' }
  | { readonly kind: 'sdp'; readonly sdp: string }
  /** A body we cannot read: refuse with 415 (Accept: ACCEPTED_BODY_TYPES). */
  | { readonly kind: 'unreadable'; readonly reason: string };

interface MediaType {
  readonly essence: string;
  readonly params: ReadonlyMap<string, string>;
}

/** `type/subtype; name=value; name="quoted"` (RFC 3261 §20.15, RFC 2045 §5.1); undefined when malformed. */
function mediaTypeOf(value: string): MediaType | undefined {
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*\/\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(.*)$/s.exec(value);
  if (m === null) return undefined;
  const params = new Map<string, string>();
  for (const p of m[3]!.matchAll(/;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g)) {
    params.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!);
  }
  return { essence: `${m[1]}/${m[2]}`.toLowerCase(), params };
}

interface Part {
  readonly headers: ReadonlyMap<string, string>;
  readonly content: string;
}

/** The parts of a multipart body (RFC 2046 §5.1.1); undefined when it has no delimited part or a part has no header end. */
export function multipartParts(body: string, boundary: string): Part[] | undefined {
  if (boundary === '' || boundary.length > 70) return undefined;
  const delimiter = `--${boundary}`;
  const found: { at: number; end: number; close: boolean }[] = [];
  for (let from = 0; ; ) {
    const i = body.indexOf(delimiter, from);
    if (i < 0) break;
    from = i + delimiter.length;
    // A delimiter starts a line and is followed only by `--` (the last one), white space and the line end.
    if (i > 0 && body[i - 1] !== '\n') continue;
    const close = body.startsWith('--', from);
    const rest = /^[ \t]*(\r?\n|$)/.exec(body.slice(close ? from + 2 : from));
    if (rest === null) continue;
    found.push({ at: i, end: (close ? from + 2 : from) + rest[0].length, close });
    if (close) break;
  }
  if (found.length < 2 || found[0]!.close) return undefined;
  const parts: Part[] = [];
  for (let k = 0; k + 1 < found.length; k++) {
    let stop = found[k + 1]!.at;
    if (body[stop - 1] === '\n') stop--;
    if (body[stop - 1] === '\r') stop--;
    const part = partOf(body.slice(found[k]!.end, Math.max(found[k]!.end, stop)));
    if (part === undefined) return undefined;
    parts.push(part);
  }
  return parts;
}

function partOf(text: string): Part | undefined {
  const headers = new Map<string, string>();
  if (/^\r?\n/.test(text)) return { headers, content: text.replace(/^\r?\n/, '') };
  const end = /\r?\n\r?\n/.exec(text);
  if (end === null) return undefined;
  let last: string | undefined;
  for (const line of text.slice(0, end.index).split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      headers.set(last, `${headers.get(last)!} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return { headers, content: text.slice(end.index + end[0].length) };
}

/** RFC 3261 §20.11 `handling=required` (CHOICE above: no disposition is optional). */
function required(part: Part): boolean {
  const disposition = part.headers.get('content-disposition');
  return disposition !== undefined && /;\s*handling\s*=\s*"?required"?\s*(?:;|$)/i.test(disposition);
}

/**
 * An SDP part as its own body: the line end before a delimiter belongs to the
 * delimiter (RFC 2046 §5.1.1), so a part written with one line end after its
 * last line comes without it, and SDP wants every line ended (RFC 4566 §5).
 */
function endLastLine(sdp: string): string {
  return sdp === '' || sdp.endsWith('\n') ? sdp : `${sdp}${sdp.includes('\r\n') ? '\r\n' : '\n'}`;
}

function sdpIn(type: MediaType, body: string, depth: number): BodySdp {
  if (type.essence === 'application/sdp') return { kind: 'sdp', sdp: depth > 0 ? endLastLine(body) : body };
  if (!MULTIPART.has(type.essence)) return { kind: 'unreadable', reason: `a body of type ${type.essence}` };
  if (depth >= MAX_DEPTH) return { kind: 'unreadable', reason: `multipart bodies nested deeper than ${MAX_DEPTH}` };
  const parts = multipartParts(body, type.params.get('boundary') ?? '');
  if (parts === undefined) return { kind: 'unreadable', reason: `a malformed ${type.essence} body` };
  let found: BodySdp = { kind: 'none' };
  for (const part of parts) {
    // RFC 2046 §5.1: a part without Content-Type is text/plain.
    const partType = mediaTypeOf(part.headers.get('content-type') ?? 'text/plain');
    const inner: BodySdp = partType === undefined ? { kind: 'unreadable', reason: 'a part with a malformed Content-Type' } : sdpIn(partType, part.content, depth + 1);
    if (inner.kind === 'sdp' && found.kind === 'none') found = inner;
    else if (inner.kind === 'unreadable' && required(part)) return { kind: 'unreadable', reason: `a required part (${inner.reason})` };
  }
  return found.kind === 'none' ? { kind: 'unreadable', reason: `a ${type.essence} body without an application/sdp part` } : found;
}

/**
 * The SDP of a message with this Content-Type and body. A body without
 * Content-Type is taken as SDP, as drachtio does (the embedded SIP server
 * refuses one that does not start like SDP).
 */
export function sdpOfBody(contentType: string | undefined, body: string | undefined): BodySdp {
  if (body === undefined || body === '') return { kind: 'none' };
  if (contentType === undefined || contentType.trim() === '') return { kind: 'sdp', sdp: body };
  const type = mediaTypeOf(contentType);
  if (type === undefined) return { kind: 'unreadable', reason: 'a malformed Content-Type' };
  return sdpIn(type, body, 0);
}

/**
 * The SDP in a body whose Content-Type drachtio-srf does not hand over (the
 * 2xx to our offer-less INVITE, the answer to our re-INVITE): a body that
 * opens with a multipart delimiter line (RFC 2046 §5.1.1) is read as
 * multipart/mixed with that boundary; any other body is taken as SDP.
 */
export function sdpOfUntypedBody(body: string): string {
  const first = /^--([^\r\n]{1,70}?)[ \t]*\r?\n/.exec(body);
  if (first === null) return body;
  const read = sdpOfBody(`multipart/mixed; boundary="${first[1]!.replace(/["\\]/g, '\\$&')}"`, body);
  return read.kind === 'sdp' ? read.sdp : body;
}
