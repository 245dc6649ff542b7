/**
 * Syntax of the header values a SIP element interprets beyond the mandatory
 * ones: scalars (RFC 3261 §20.19 Expires, §20.22 Max-Forwards, §20.33
 * Retry-After, §20.43 Warning codes; RFC 4475 §3.1.2.4 and §3.1.2.5 on
 * overlarge values), Contact (§20.10, RFC 4475 §3.1.2.13) and the route
 * headers (§20.30, §20.34: always name-addr). Returns a reason fit for a
 * Reason-Phrase, or undefined when the values are acceptable.
 */
import { MAX_DELTA_SECONDS, parseDecimal } from './decimal.js';
import { parseNameAddr, splitListStrict } from './name-addr.js';
import type { SipHeaders } from './sip-message.js';
import { parseUri } from './uri.js';

/** Scalar headers, checked in requests and responses alike. */
export function checkScalars(headers: SipHeaders): string | undefined {
  const mf = headers.get('max-forwards');
  // CHOICE: RFC 4475 §3.1.2.4 lets an element treat a bad Max-Forwards as absent; we refuse it.
  if (mf !== undefined && parseDecimal(mf, 255) === undefined) return 'malformed Max-Forwards';
  for (const name of ['expires', 'min-expires'] as const) {
    const v = headers.get(name);
    // CHOICE: RFC 4475 allows treating an overlarge expiry as the default; we refuse it.
    if (v !== undefined && parseDecimal(v, MAX_DELTA_SECONDS) === undefined) return `malformed ${name === 'expires' ? 'Expires' : 'Min-Expires'}`;
  }
  const ra = headers.get('retry-after');
  if (ra !== undefined) {
    // Retry-After = delta-seconds [ comment ] *( SEMI retry-param )
    const m = /^(\d+)(?:[ \t]*\(.*\))?[ \t]*(?:;.*)?$/.exec(ra);
    if (m === null || parseDecimal(m[1]!, MAX_DELTA_SECONDS) === undefined) return 'malformed Retry-After';
  }
  for (const w of headers.entries('warning')) {
    // warning-value = warn-code SP warn-agent SP warn-text, warn-code = 3DIGIT
    if (!/^\d{3} [^ ]+ "/.test(w)) return 'malformed Warning';
  }
  return undefined;
}

/** Contact and route headers, checked in requests (a response we cannot use is dropped, not answered). */
export function checkAddressHeaders(headers: SipHeaders): string | undefined {
  const contacts = headers.values('contact');
  for (const value of contacts) {
    // "*" is only meaningful in REGISTER; elsewhere a UA ignores it, so it is not a syntax error.
    if (value.trim() === '*') {
      if (contacts.length > 1) return 'malformed Contact';
      continue;
    }
    const entries = splitListStrict(value);
    if (entries === undefined) return 'malformed Contact';
    for (const entry of entries) {
      const na = parseNameAddr(entry);
      if (na === undefined || parseUri(na.uri) === undefined) return 'malformed Contact';
      const exp = na.params.get('expires');
      if (exp !== undefined && (exp === null || parseDecimal(exp, MAX_DELTA_SECONDS) === undefined)) return 'malformed Contact expires';
      const q = na.params.get('q');
      if (q !== undefined && (q === null || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(q))) return 'malformed Contact q';
    }
  }
  for (const name of ['record-route', 'route'] as const) {
    for (const value of headers.values(name)) {
      const entries = splitListStrict(value);
      if (entries === undefined) return `malformed ${name === 'route' ? 'Route' : 'Record-Route'}`;
      for (const entry of entries) {
        const na = parseNameAddr(entry);
        if (na === undefined || !na.bracketed || parseUri(na.uri) === undefined) return `malformed ${name === 'route' ? 'Route' : 'Record-Route'}`;
      }
    }
  }
  return undefined;
}
