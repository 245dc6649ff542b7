/**
 * The UAS core's request checks, RFC 3261 §8.2, in the RFC's order: method
 * inspection (§8.2.1: 405 for a method we know but do not serve, 501 for one
 * we do not know, both with Allow), then content processing (§8.2.3: 415 with
 * Accept or Accept-Encoding for a body we cannot read; a multipart body,
 * RFC 5621, is read when one of its parts is) and the Accept header (§20.1,
 * §21.4.7: 406 when an INVITE refuses the only body its 2xx can carry). The
 * header checks of §8.2.2 (416, 482, 420) are the caller's.
 *
 * Which methods are served is the configuration plus whatever the connected
 * apps routed; which body types are readable is configured per method.
 */
import { accepts, contentCodings, parseMediaType, type MediaType } from '../message/media-type.js';
import { MULTIPART_TYPES, parseMultipart, type BodyPart } from '../message/multipart.js';
import type { HeaderField, SipRequest } from '../message/sip-message.js';
import { sniffContentType } from './message-builder.js';

export interface UasPolicy {
  /** Methods served even while no app routes them (they then get 503, drachtio spec §2.2); ACK, CANCEL and PRACK always are. */
  readonly allow: readonly string[];
  /** Body types readable per method; a method not listed takes any body (its app decides). */
  readonly bodies: readonly { readonly methods: readonly string[]; readonly types: readonly string[] }[];
}

export const DEFAULT_UAS_POLICY: UasPolicy = {
  allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE'],
  bodies: [{ methods: ['INVITE', 'UPDATE'], types: ['application/sdp'] }],
};

/** Methods defined by RFC 3261 and its extensions: one of these not served is 405, anything else 501. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', // RFC 3261
  'PRACK', // RFC 3262
  'SUBSCRIBE', 'NOTIFY', // RFC 6665
  'PUBLISH', // RFC 3903
  'INFO', // RFC 6086
  'REFER', // RFC 3515
  'MESSAGE', // RFC 3428
  'UPDATE', // RFC 3311
]);

/** The server's own answer to a request, when it refuses it. */
export interface Refusal {
  readonly status: number;
  readonly reason?: string;
  readonly headers: HeaderField[];
}

const field = (name: string, value: string): HeaderField => ({ name, key: name.toLowerCase(), value });

/** Multipart bodies nest (RFC 5621 §3.1); deeper than this is refused rather than walked. */
const MAX_DEPTH = 4;

export class UasChecks {
  private readonly served: ReadonlySet<string>;
  private readonly bodyTypes = new Map<string, ReadonlySet<string>>();

  constructor(policy: UasPolicy) {
    // ACK, CANCEL and PRACK (RFC 3262, reliable provisionals) are handled by the server itself, whatever is configured.
    this.served = new Set([...policy.allow, 'ACK', 'CANCEL', 'PRACK']);
    for (const b of policy.bodies) {
      for (const m of b.methods) this.bodyTypes.set(m, new Set([...(this.bodyTypes.get(m) ?? []), ...b.types.map((t) => t.toLowerCase())]));
    }
  }

  /** The Allow header's methods: configured, handled by the server, and routed by connected apps (upper-cased). */
  allowed(routed: Iterable<string>): string[] {
    const all = new Set(this.served);
    for (const v of routed) if (!v.startsWith('cdr:')) all.add(v.toUpperCase());
    return [...all].sort();
  }

  /**
   * §8.2.1, for a request outside a dialog: undefined when the method is
   * served. `routedVerbs` is asked only for a refusal (the Allow header), so
   * the common case costs two set lookups.
   */
  checkMethod(method: string, isRouted: (verb: string) => boolean, routedVerbs: () => readonly string[]): Refusal | undefined {
    // Routes are lower-case verbs (drachtio-srf); methods are case-sensitive (§7.1), so `invite` is not INVITE.
    if (this.served.has(method) || (method === method.toUpperCase() && isRouted(method.toLowerCase()))) return undefined;
    const allowed = this.allowed(routedVerbs());
    const allow = field('Allow', allowed.join(', '));
    return KNOWN_METHODS.has(method) ? { status: 405, headers: [allow] } : { status: 501, headers: [allow] };
  }

  /** §8.2.3 and §20.1: the body and the Accept header of a request whose method has configured body types. */
  checkContent(request: SipRequest): Refusal | undefined {
    const types = this.bodyTypes.get(request.method);
    if (types === undefined) return undefined;
    const acceptable = [...types, ...MULTIPART_TYPES].join(', ');
    if (request.body.length > 0) {
      const codings = contentCodings(request.headers.values('content-encoding'));
      if (codings.length > 0) return { status: 415, reason: 'Unsupported Media Type (content encoding)', headers: [field('Accept-Encoding', 'identity')] };
      const ct = request.headers.get('content-type');
      // A body without Content-Type breaks §7.4.1's MUST; SDP is still recognised by its first line, as drachtio does.
      const type = ct !== undefined ? parseMediaType(ct) : sniffContentType(request.body) !== undefined ? parseMediaType('application/sdp') : undefined;
      if (ct === undefined && type === undefined) return { status: 400, reason: 'Bad Request (a body without Content-Type)', headers: [] };
      if (type === undefined) return { status: 400, reason: 'Bad Request (malformed Content-Type)', headers: [] };
      if (!readable(type, request.body, types, 0)) return { status: 415, headers: [field('Accept', acceptable)] };
    }
    // §20.1: no Accept means application/sdp; an INVITE's 2xx carries SDP (an answer or, for a delayed offer, an offer).
    const accept = request.headers.values('accept');
    if (request.method === 'INVITE' && accept.length > 0 && ![...types].some((t) => accepts(accept, t))) {
      return { status: 406, headers: [field('Accept', [...types].join(', '))] };
    }
    return undefined;
  }
}

/**
 * A body is readable when its type is one of `types`, or it is multipart
 * (RFC 5621) with at least one readable part and no part we cannot read that
 * says `handling=required` (RFC 3261 §20.11, RFC 5621 §9.1). CHOICE: a part
 * with no Content-Disposition is optional here, so that SDP with ISUP from
 * carriers that leave the disposition out is taken.
 */
function readable(type: MediaType, body: Buffer, types: ReadonlySet<string>, depth: number): boolean {
  if (types.has(type.essence)) return true;
  if (!MULTIPART_TYPES.includes(type.essence) || depth >= MAX_DEPTH) return false;
  const parts = parseMultipart(body, type.params.get('boundary') ?? '');
  if (parts === undefined) return false;
  let any = false;
  for (const p of parts) {
    if (readable(p.type, p.content, types, depth + 1)) any = true;
    else if (required(p)) return false;
  }
  return any;
}

function required(part: BodyPart): boolean {
  const disposition = part.headers.get('content-disposition');
  return disposition !== undefined && /;\s*handling\s*=\s*"?required"?\s*(?:;|$)/i.test(disposition);
}
