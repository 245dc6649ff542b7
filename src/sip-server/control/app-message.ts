/**
 * The SIP part of an app frame (spec §1.3): drachtio-srf sends skeletal SIP
 * with lower-case header names, repeated headers comma-joined, and a
 * Content-Length computed from the JavaScript string length (so it is not
 * trusted). Start line up to the first line break, headers up to the first
 * blank line, body = everything after it.
 */
import { TOKEN_RE, headerKey } from '../message/header-names.js';
import { exactBytes } from '../message/detach.js';
import type { HeaderField } from '../message/sip-message.js';

export type AppStartLine =
  | { readonly kind: 'request'; readonly method: string; readonly uri: string }
  | { readonly kind: 'response'; readonly status: number; readonly reason: string };

export interface AppMessage {
  readonly start: AppStartLine;
  readonly fields: HeaderField[];
  readonly body: Buffer;
}

export function parseAppMessage(text: string): AppMessage | string {
  let headEnd = text.indexOf('\r\n\r\n');
  let sep = 4;
  const lfEnd = text.indexOf('\n\n');
  if (headEnd < 0 || (lfEnd >= 0 && lfEnd < headEnd)) {
    headEnd = lfEnd;
    sep = 2;
  }
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const body = headEnd < 0 ? '' : text.slice(headEnd + sep);
  const lines = head.split(/\r?\n|\r/);
  const first = (lines[0] ?? '').trim();
  let start: AppStartLine;
  const resp = /^SIP\/2\.0 (\d{3})(?: (.*))?$/.exec(first);
  if (resp !== null) {
    const status = Number(resp[1]);
    if (status < 100 || status > 699) return `invalid status code ${status}`;
    start = { kind: 'response', status, reason: resp[2] ?? '' };
  } else {
    const m = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/.exec(first);
    if (m === null) return `malformed start line "${first.slice(0, 60)}"`;
    start = { kind: 'request', method: m[1]!.toUpperCase(), uri: m[2]! };
  }
  const fields: HeaderField[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    // Header names must be tokens; anything else is dropped rather than sent on the wire.
    if (!TOKEN_RE.test(name)) continue;
    fields.push({ name, key: headerKey(name), value: line.slice(colon + 1).trim() });
  }
  // Exact bytes: a dialog keeps its last session description for the whole call (a refresh re-sends it).
  return { start, fields, body: exactBytes(body) };
}
