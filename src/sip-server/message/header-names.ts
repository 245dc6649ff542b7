/**
 * RFC 3261 §7.3.3 compact forms and §20 header names. Every header is keyed by
 * its lower-case long name; on output, known headers get their canonical
 * spelling and others keep theirs.
 */

const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  // RFC 3515 (Refer-To), RFC 3892 (Referred-By), RFC 3841, RFC 4028, RFC 3265
  r: 'refer-to',
  b: 'referred-by',
  j: 'reject-contact',
  a: 'accept-contact',
  d: 'request-disposition',
  x: 'session-expires',
  o: 'event',
  u: 'allow-events',
  y: 'identity',
  n: 'identity-info',
};

const CANONICAL: ReadonlyMap<string, string> = new Map(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
    'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
    'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
    'Event', 'Expires', 'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'Min-SE', 'MIME-Version',
    'Organization', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Path', 'Priority', 'Privacy',
    'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route',
    'Refer-To', 'Referred-By', 'Reject-Contact', 'Remote-Party-ID', 'Replaces', 'Reply-To',
    'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Server', 'Session-Expires',
    'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To',
    'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Diversion', 'History-Info',
    'Identity', 'Identity-Info',
  ].map((n) => [n.toLowerCase(), n]),
);

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1) and may be
 * split into separate fields. Authorization-like headers and Date are not:
 * their values contain commas that do not separate entries.
 */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'content-encoding', 'content-language', 'allow-events',
  'path', 'p-asserted-identity', 'reason', 'in-reply-to', 'call-info', 'alert-info', 'error-info', 'warning',
  'history-info', 'diversion',
]);

/** Headers that may appear only once (RFC 3261 §20: not a list). A second copy makes a request malformed. */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires', 'min-expires',
]);

const cache = new Map<string, string>();

/** The lower-case long name of a header name as written (compact forms expanded). */
export function headerKey(name: string): string {
  let key = cache.get(name);
  if (key === undefined) {
    const lower = name.toLowerCase();
    key = COMPACT[lower] ?? lower;
    if (cache.size < 4096) cache.set(name, key);
  }
  return key;
}

/**
 * The spelling used when we write a header: canonical for known ones, `X-`
 * headers verbatim, others with each dash-separated word capitalised.
 */
export function canonicalName(name: string): string {
  const key = headerKey(name);
  const known = CANONICAL.get(key);
  if (known !== undefined) return known;
  if (/^x-/i.test(name)) return name;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}

/** RFC 3261 token characters (header names, methods, parameter names). */
export const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
