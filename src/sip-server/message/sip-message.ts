/**
 * SIP messages, RFC 3261 §7: a start line, an ordered list of header fields
 * and a byte body. Header fields keep their order and the spelling they were
 * received with; lookups are by lower-case long name (compact forms expanded).
 */
import { MAX_CSEQ, parseDecimal } from './decimal.js';
import { canonicalName, headerKey, isListHeader } from './header-names.js';
import { splitList } from './name-addr.js';

export interface HeaderField {
  /** The name as written (received spelling, or canonical for headers we add). */
  readonly name: string;
  /** Lower-case long name, the lookup key. */
  readonly key: string;
  value: string;
}

export class SipHeaders {
  readonly fields: HeaderField[];

  constructor(fields: HeaderField[] = []) {
    this.fields = fields;
  }

  /** The first field's value for a header, or undefined. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return f.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every field's raw value for a header, in order (not split on commas). */
  values(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.fields) if (f.key === key) out.push(f.value);
    return out;
  }

  /** Every entry of a header, splitting comma-separated lists where the header is a list. */
  entries(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.fields) {
      if (f.key !== key) continue;
      if (isListHeader(key)) out.push(...splitList(f.value));
      else out.push(f.value);
    }
    return out;
  }

  /** Replaces the first occurrence in place (keeping its position) and removes the others; appends if absent. */
  set(name: string, value: string): void {
    const key = headerKey(name);
    const i = this.fields.findIndex((f) => f.key === key);
    if (i < 0) {
      this.fields.push({ name: canonicalName(name), key, value });
      return;
    }
    this.fields[i]!.value = value;
    for (let j = this.fields.length - 1; j > i; j--) if (this.fields[j]!.key === key) this.fields.splice(j, 1);
  }

  append(name: string, value: string): void {
    this.fields.push({ name: canonicalName(name), key: headerKey(name), value });
  }

  /** Inserts before every other field (used for Via). */
  prepend(name: string, value: string): void {
    this.fields.unshift({ name: canonicalName(name), key: headerKey(name), value });
  }

  remove(name: string): void {
    const key = headerKey(name);
    for (let j = this.fields.length - 1; j >= 0; j--) if (this.fields[j]!.key === key) this.fields.splice(j, 1);
  }

  clone(): SipHeaders {
    return new SipHeaders(this.fields.map((f) => ({ ...f })));
  }
}

export interface SipRequest {
  readonly kind: 'request';
  readonly method: string;
  uri: string;
  readonly headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY_BODY: Buffer = Buffer.alloc(0);

export function startLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/**
 * Serialises a message with CRLF line endings and a Content-Length computed
 * from the body's bytes (any Content-Length field present is replaced in place).
 * `latin1`: the header strings hold bytes one char each (copies of a header
 * section that was not valid UTF-8), written back as those bytes.
 */
export function serialize(msg: SipMessage, encoding: 'utf8' | 'latin1' = 'utf8'): Buffer {
  let head = `${startLine(msg)}\r\n`;
  let wroteLength = false;
  for (const f of msg.headers.fields) {
    if (f.key === 'content-length') {
      if (wroteLength) continue;
      head += `${f.name}: ${msg.body.length}\r\n`;
      wroteLength = true;
    } else {
      head += `${f.name}: ${f.value}\r\n`;
    }
  }
  if (!wroteLength) head += `Content-Length: ${msg.body.length}\r\n`;
  head += '\r\n';
  // An unpooled buffer of exactly this size: transactions keep their last message for up to 64·T1,
  // and a small slice of Node's shared 8 KB pool would keep the whole slab alive that long.
  const headBytes = Buffer.byteLength(head, encoding);
  const out = Buffer.allocUnsafeSlow(headBytes + msg.body.length);
  out.write(head, 0, encoding);
  if (msg.body.length > 0) msg.body.copy(out, headBytes);
  return out;
}

/** The CSeq header split into number and method. */
export function parseCSeq(value: string): { seq: number; method: string } | undefined {
  const m = /^(\d+)[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value.trim());
  if (m === null) return undefined;
  // RFC 3261 §8.1.1.5: less than 2**31 (leading zeros are legal, RFC 4475 §3.1.1.1).
  const seq = parseDecimal(m[1]!, MAX_CSEQ);
  return seq === undefined ? undefined : { seq, method: m[2]! };
}
