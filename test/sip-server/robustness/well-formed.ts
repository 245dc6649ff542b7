/**
 * An independent check that what the server sent is well-formed SIP, written
 * from the RFC 3261 §25.1 grammar rather than with the server's own parser
 * (which would agree with itself): a Status-Line or Request-Line, header
 * lines of token HCOLON value without bare control characters, one
 * Content-Length equal to the body's bytes, a Via, no repeated single-value
 * headers. Returns the problems found; an empty list means well-formed.
 */
import { isUtf8 } from 'node:buffer';

const TOKEN = "[A-Za-z0-9\\-.!%*_+`'~]+";
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d) (.*)$/;
const REQUEST_LINE = new RegExp(`^${TOKEN} [^ ]+ SIP/2\\.0$`);
const HEADER_LINE = new RegExp(`^(${TOKEN}) ?: ?(.*)$`);
const SINGLE = new Set(['call-id', 'i', 'cseq', 'from', 'f', 'to', 't', 'content-length', 'l', 'max-forwards', 'content-type', 'c']);
const LONG: Readonly<Record<string, string>> = { i: 'call-id', f: 'from', t: 'to', l: 'content-length', c: 'content-type', v: 'via' };

/** Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB) */
function reasonPhraseOk(reason: string): boolean {
  return /^(?:[;/?:@&=+$,A-Za-z0-9\-_.!~*'() \t\u0080-\u{10ffff}]|%[0-9A-Fa-f]{2})*$/u.test(reason);
}

/** Control characters are allowed in a value only as a quoted-pair (after a backslash), never CR or LF. */
function valueOk(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) continue;
    if (c === 0x0a || c === 0x0d || i === 0 || value.charCodeAt(i - 1) !== 0x5c) return false;
  }
  return true;
}

/**
 * `request`: the bytes the message answers. A header line of the answer that
 * is not valid UTF-8 is well-formed only as an exact copy of a line of the
 * request (RFC 3261 §8.2.6.2; a To line may have gained a tag).
 */
/** Header values of (possibly several) messages, continuation lines joined with one space as RFC 3261 §7.3.1 allows. */
function unfoldedValues(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && values.length > 0) values[values.length - 1] = `${values[values.length - 1]!} ${line.trim()}`.trim();
    else if (line.includes(':')) values.push(line.slice(line.indexOf(':') + 1).trim());
  }
  return values;
}

export function wellFormedProblems(msg: Buffer, request?: Buffer): string[] {
  const problems: string[] = [];
  const end = msg.indexOf('\r\n\r\n');
  if (end < 0) return ['no CRLF CRLF after the header section'];
  const rawLines = msg.toString('latin1', 0, end).split('\r\n');
  const sent = unfoldedValues(request?.toString('latin1') ?? '');
  for (const raw of rawLines.slice(1)) {
    if (isUtf8(Buffer.from(raw, 'latin1'))) continue;
    const value = raw.slice(raw.indexOf(':') + 1).trim();
    if (!sent.some((v) => value === v || (value.startsWith(v) && /^;tag=[^;]*$/.test(value.slice(v.length))))) {
      problems.push(`a header line is not valid UTF-8 and not an exact copy of the request's: ${JSON.stringify(raw.slice(0, 60))}`);
    }
  }
  const head = rawLines.map((l) => (isUtf8(Buffer.from(l, 'latin1')) ? Buffer.from(l, 'latin1').toString('utf8') : l)).join('\r\n');
  // The tests never send U+FFFD: finding one means the server re-encoded bytes it could not decode,
  // so what it echoed is not what it received (RFC 3261 §8.2.6.2 requires exact copies).
  if (head.includes('\ufffd')) problems.push('U+FFFD in the header section: received bytes were not echoed exactly');
  const lines = head.split('\r\n');
  const first = lines[0] ?? '';
  const status = STATUS_LINE.exec(first);
  if (status !== null) {
    if (!reasonPhraseOk(status[2]!)) problems.push(`reason phrase has characters outside the grammar: ${JSON.stringify(status[2])}`);
  } else if (!REQUEST_LINE.test(first)) problems.push(`bad start line ${JSON.stringify(first)}`);
  const counts = new Map<string, number>();
  let contentLength: string | undefined;
  for (const line of lines.slice(1)) {
    if (line.includes('\r') || line.includes('\n')) problems.push('bare CR or LF in a header line');
    const m = HEADER_LINE.exec(line);
    if (m === null) {
      problems.push(`bad header line ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    const name = m[1]!.toLowerCase();
    const key = LONG[name] ?? name;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (!valueOk(m[2]!)) problems.push(`control character in ${m[1]}`);
    if (key === 'content-length') contentLength = m[2]!.trim();
  }
  for (const [key, n] of counts) if (SINGLE.has(key) && n > 1) problems.push(`${n} ${key} headers`);
  if ((counts.get('via') ?? 0) === 0) problems.push('no Via');
  if (contentLength === undefined) problems.push('no Content-Length');
  else if (!/^\d+$/.test(contentLength) || Number(contentLength) !== msg.length - end - 4) problems.push(`Content-Length ${contentLength} but the body has ${msg.length - end - 4} bytes`);
  return problems;
}
