/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds (a non-negative
 * integer) or an HTTP-date (IMF-fixdate, or the obsolete RFC 850 / asctime
 * forms Date.parse also reads). Returns milliseconds to wait, or undefined
 * when the header is absent or not understood.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form names a month; Date.parse alone would read "-5" as a year.
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
