/**
 * RFC 7433 §4.1 User-to-User header field:
 *
 *   UUI = "User-to-User" HCOLON uui-value *(COMMA uui-value)
 *   uui-value = uui-data *(SEMI uui-param)
 *   uui-data = token / quoted-string
 *   uui-param = pkg-param / cont-param / enc-param / generic-param
 *   pkg-param = "purpose" EQUAL token     (absent: the isdn-uui package, RFC 7434)
 *   cont-param = "content" EQUAL token
 *   enc-param = "encoding" EQUAL ("hex" / token)
 *
 * A header may appear more than once and each may list several values (one
 * per package). Decoding: `hex` is pairs of hex digits (RFC 7433 §4.1, the
 * only registered encoding); a value naming no encoding is read as the
 * mapping says. Parameter names are case-insensitive (RFC 3261 §7.3.1).
 */
import { splitOutside, TOKEN, trimLws } from './header-text.js';

export interface UuiValue {
  readonly data: string;
  readonly purpose: string;
  readonly encoding: string | undefined;
  readonly content: string | undefined;
}

export const DEFAULT_UUI_PURPOSE = 'isdn-uui';

/** Parses every uui-value of the header lines; a string says what is malformed. */
export function parseUui(lines: readonly string[]): UuiValue[] | string {
  const out: UuiValue[] = [];
  for (const line of lines) {
    for (const raw of splitOutside(line, ',')) {
      const [dataPart, ...params] = splitOutside(raw, ';').map(trimLws);
      const data = dataPart ?? '';
      const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(data);
      if (quoted === null && !TOKEN.test(data)) return `uui-data is neither a token nor a quoted string`;
      const found: Record<string, string> = {};
      for (const p of params) {
        const m = /^([A-Za-z0-9.!%*_+`'~-]+)[ \t]*(?:=[ \t]*([A-Za-z0-9.!%*_+`'~-]+|"(?:[^"\\]|\\.)*"))?$/.exec(p);
        if (m === null) return `malformed parameter in a User-to-User value`;
        const name = m[1]!.toLowerCase();
        if (name in found) return `parameter "${name}" given twice in one User-to-User value`;
        found[name] = m[2] ?? '';
      }
      out.push({
        data: quoted !== null ? quoted[1]!.replace(/\\(.)/g, '$1') : data,
        purpose: (found.purpose ?? DEFAULT_UUI_PURPOSE).toLowerCase(),
        encoding: found.encoding?.toLowerCase(),
        content: found.content?.toLowerCase(),
      });
    }
  }
  return out;
}

/** The octets of `data`, decoded as `encoding` (hex, or none: the data as it is). */
export function decodeUui(data: string, encoding: 'hex' | 'none'): Buffer | string {
  if (encoding === 'none') {
    // Never through latin1: a character above U+00FF would lose its high byte (U+0D0A would become LF).
    if (!/^[\x20-\x7e]*$/.test(data)) return 'UUI data without encoding is not printable ASCII';
    return Buffer.from(data, 'ascii');
  }
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(data)) return 'hex-encoded UUI data is not an even number of hex digits';
  return Buffer.from(data, 'hex');
}
