/**
 * Unsigned decimal scalars of RFC 3261 §25.1 (`1*DIGIT`: CSeq numbers,
 * Content-Length, Max-Forwards, delta-seconds). The grammar allows leading
 * zeros ("0068" is a legal Max-Forwards, RFC 4475 §3.1.1.1), so the limit is
 * applied to the value, never to the number of digits; values that do not fit
 * the field (RFC 4475 §3.1.2.4) are refused rather than clamped or wrapped.
 */

/** The value of `1*DIGIT` text when it is at most `max`; undefined otherwise (signs, spaces, overflow). */
export function parseDecimal(text: string, max: number): number | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  let i = 0;
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  while (i < n - 1 && text.charCodeAt(i) === 0x30) i++;
  // More than 15 significant digits cannot be represented exactly and exceeds every SIP limit.
  if (n - i > 15) return undefined;
  const value = Number(text.slice(i));
  return value <= max ? value : undefined;
}

/** 2**31 - 1: CSeq numbers must be below 2**31 (RFC 3261 §8.1.1.5). */
export const MAX_CSEQ = 0x7fffffff;
/** 2**32 - 1: the range of delta-seconds (§20.19 Expires, §20.33 Retry-After, §10.2.1.1 Contact expires). */
export const MAX_DELTA_SECONDS = 0xffffffff;
