/**
 * The registrar for agents' devices (RFC 3261 §10.3): a REGISTER for
 * `sip:<agent id>@<domain>` is checked in the RFC's order (domain, digest
 * authentication per §22 / RFC 7616, the authenticated user may bind only its
 * own address of record, Contact processing with Min-Expires and expiry
 * limits, Call-ID/CSeq ordering) and answered with every current binding and
 * its expiry (§10.3 step 8). A REGISTER that came through edge proxies
 * carries their Path (RFC 3327): it is stored with the bindings, every
 * request to those contacts is routed through it, and it is returned to a
 * device that supports `path`. Bindings expire, are removed by un-REGISTER
 * (expires 0, or `*`), or by the keep-alive when a device stops answering
 * OPTIONS (keep-alive.ts). They are saved (binding-store.ts) and reloaded at
 * start, so a restart does not log phones off.
 *
 * Every refusal is specific and reveals nothing about which users exist:
 * unauthenticated requests are challenged whoever they name, and a wrong
 * password and an unknown user both get 403. Each source address is rate
 * limited, failures costing more (source-limiter.ts).
 */
import { EventEmitter } from 'node:events';
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { DigestServer } from '../signaling/digest-server.js';
import { describeSource, type InboundRequest } from '../signaling/sip-port.js';
import { BindingTable, type Binding, type ContactUpdate } from './binding-table.js';
import type { BindingStore } from './binding-store.js';
import { nameAddrUri, parseContacts, parseSipAddress, splitList } from './contact-list.js';
import type { Credentials } from './credentials.js';
import { SourceLimiter } from './source-limiter.js';

export type BindingChange = 'registered' | 'refreshed' | 'unregistered' | 'expired' | 'unreachable' | 'restored';

export interface RegistrarEvents {
  /** The bindings of an agent changed (new, removed, expired, unreachable, loaded at start). */
  bindings: [agent: string, bindings: readonly Binding[], change: BindingChange];
}

export type AuthResult = { readonly ok: true; readonly user: string } | { readonly ok: false; readonly status: number; readonly reason: string; readonly headers: Record<string, string | readonly string[]> };

export interface AuthRequest {
  readonly method: string;
  readonly uri: string;
  readonly authorization: readonly string[];
  readonly source: string;
  /** Which users may authenticate for this request (unknown ones fail like wrong passwords). */
  readonly allowed: (user: string) => boolean;
}

export interface RegistrarDeps {
  readonly config: SwitchboardConfig;
  readonly credentials: Credentials;
  /** Whether `id` is an agent whose device registers. */
  readonly registers: (id: string) => boolean;
  readonly store: BindingStore;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface RegistrarStats {
  readonly bindings: number;
  readonly agentsRegistered: number;
  readonly registers: number;
  readonly challenged: number;
  readonly refused: number;
  readonly malformed: number;
  readonly rateLimited: number;
}

export class Registrar extends EventEmitter<RegistrarEvents> {
  readonly table: BindingTable;
  private readonly digest: DigestServer;
  private readonly limiter: SourceLimiter;
  private readonly settings: SwitchboardConfig['registrar'];
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout | undefined;
  private counts = { registers: 0, challenged: 0, refused: 0, malformed: 0 };

  constructor(private readonly deps: RegistrarDeps) {
    super();
    this.settings = deps.config.registrar;
    this.now = deps.now ?? Date.now;
    this.table = new BindingTable(this.now);
    this.digest = new DigestServer({ realm: this.settings.realm, algorithms: this.settings.algorithms, nonceSeconds: this.settings.nonceSeconds, now: this.now });
    this.limiter = new SourceLimiter(this.settings.rateLimit, this.now);
  }

  /** Loads the saved registrations and starts expiring them. */
  async start(): Promise<void> {
    const saved = await this.deps.store.load();
    this.table.load(saved.filter((b) => this.deps.registers(b.aor)));
    for (const aor of this.table.aors()) this.emit('bindings', aor, this.table.list(aor), 'restored');
    if (saved.length > 0) this.deps.logger.info({ bindings: this.table.size, agents: this.table.aors().length }, 'registrations restored');
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.deps.store.close();
  }

  stats(): RegistrarStats {
    return { bindings: this.table.size, agentsRegistered: this.table.aors().length, ...this.counts, rateLimited: this.limiter.limited };
  }

  /** The contacts to ring for an agent: all, or the newest registered (registrar.ring). */
  targets(agent: string): Binding[] {
    const list = this.table.list(agent);
    return this.settings.ring === 'newest' ? list.slice(0, 1) : list;
  }

  private sweep(): void {
    for (const aor of this.table.expire()) {
      this.deps.logger.info({ agent: aor }, 'registration expired');
      this.changed(aor, 'expired');
    }
  }

  private changed(aor: string, change: BindingChange): void {
    const list = this.table.list(aor);
    this.deps.store.save(aor, list);
    this.emit('bindings', aor, list, change);
  }

  /** Removes every binding of an agent (an operator logging a device off; tests). */
  removeAll(aor: string): void {
    const had = this.table.list(aor).length > 0;
    this.table.apply({ aor, callId: '', cseq: Number.MAX_SAFE_INTEGER, source: 'engine', userAgent: undefined, path: [], removeAll: true, contacts: [] }, Number.MAX_SAFE_INTEGER);
    if (had) this.changed(aor, 'unregistered');
  }

  /** Removes a binding whose device stopped answering (keep-alive). */
  unreachable(aor: string, contact: string): void {
    if (!this.table.remove(aor, contact)) return;
    this.deps.logger.warn({ agent: aor, contact }, 'device stopped answering OPTIONS: contact removed');
    this.changed(aor, 'unreachable');
  }

  private inDomain(host: string): boolean {
    const domains = this.settings.domains;
    return domains.length === 0 || domains.some((d) => d.toLowerCase() === host);
  }

  /**
   * Digest authentication of a request from an agent's device (REGISTER, a
   * feature-code INVITE), with the source's rate limit.
   */
  authenticate(r: AuthRequest): AuthResult {
    const limit = this.limiter.take(r.source);
    if (!limit.ok) return { ok: false, status: 503, reason: 'Service Unavailable (too many requests from this address)', headers: { 'Retry-After': String(limit.retryAfterSeconds) } };
    const verdict = this.digest.verify({
      method: r.method,
      requestUri: r.uri,
      authorization: r.authorization,
      passwordOf: (u) => (r.allowed(u) ? this.deps.credentials.passwordOf(u) : undefined),
    });
    switch (verdict.kind) {
      case 'ok':
        return { ok: true, user: verdict.username };
      case 'challenge':
        this.counts.challenged++;
        return { ok: false, status: 401, reason: 'Unauthorized', headers: { 'WWW-Authenticate': this.digest.challenges() } };
      case 'stale':
        this.counts.challenged++;
        return { ok: false, status: 401, reason: 'Unauthorized', headers: { 'WWW-Authenticate': this.digest.challenges(true) } };
      case 'malformed':
        this.counts.malformed++;
        this.limiter.failed(r.source);
        return { ok: false, status: 400, reason: `Bad Request (Authorization: ${verdict.reason})`, headers: {} };
      case 'refused':
        this.counts.refused++;
        this.limiter.failed(r.source);
        this.deps.logger.info({ source: r.source, method: r.method }, 'authentication failed');
        return { ok: false, status: 403, reason: 'Forbidden', headers: {} };
    }
  }

  /** Answers one REGISTER. */
  handle(r: InboundRequest): void {
    this.counts.registers++;
    const refuse = (status: number, reason: string, headers: Record<string, string | readonly string[]> = {}): void => {
      r.respond(status, reason, headers);
    };
    const ruri = parseSipAddress(r.uri);
    if (ruri === undefined) return refuse(400, 'Bad Request (Request-URI is not a SIP URI)');
    // §10.3 step 1: the domain must be one whose bindings we hold.
    if (!this.inDomain(ruri.host)) return refuse(404, 'Not Found (domain not served here)');
    const to = r.headerLines('to')[0];
    const toUri = to !== undefined ? nameAddrUri(to) : undefined;
    const aor = toUri !== undefined ? parseSipAddress(toUri) : undefined;
    if (aor === undefined || aor.user === undefined || aor.user === '') return refuse(400, 'Bad Request (To is not an address of record)');
    const cseqMatch = /^\s*([0-9]{1,10})\s+REGISTER\s*$/i.exec(r.headerLines('cseq')[0] ?? '');
    if (cseqMatch === null) return refuse(400, 'Bad Request (CSeq)');
    const expiresHeader = r.headerLines('expires');
    if (expiresHeader.length > 1 || (expiresHeader.length === 1 && !/^\s*[0-9]{1,10}\s*$/.test(expiresHeader[0]!))) return refuse(400, 'Bad Request (Expires must be one number of seconds)');
    const headerExpires = expiresHeader.length === 1 ? Number(expiresHeader[0]) : undefined;
    const parsed = parseContacts(r.headerLines('contact'));
    if (!parsed.ok) return refuse(400, `Bad Request (${parsed.reason})`);
    const path = parsePath(r.headerLines('path'));
    if (typeof path === 'string') return refuse(400, `Bad Request (${path})`);
    const source = describeSource(r.source);

    // §10.3 steps 3-4: authenticate, then the user may bind only its own address.
    const auth = this.authenticate({ method: 'REGISTER', uri: r.uri, authorization: r.headerLines('authorization'), source: r.source.address, allowed: (u) => this.deps.registers(u) });
    if (!auth.ok) return refuse(auth.status, auth.reason, auth.headers);
    // §10.3 step 5: the address of record must be in our domain.
    if (!this.inDomain(aor.host)) return refuse(404, 'Not Found (domain not served here)');
    if (aor.user !== auth.user) return refuse(403, `Forbidden (${auth.user} may register only its own address)`);

    const agent = auth.user;
    const s = this.settings;
    const userAgent = r.headerLines('user-agent')[0]?.slice(0, 120);
    const cseq = Number(cseqMatch[1]);
    let removeAll = false;
    const updates: ContactUpdate[] = [];
    if (parsed.star) {
      if (headerExpires !== 0) return refuse(400, 'Bad Request (Contact: * needs Expires: 0)');
      removeAll = true;
    } else {
      for (const c of parsed.contacts) {
        const wanted = c.expires ?? headerExpires ?? s.defaultExpiresSeconds;
        if (wanted !== 0 && wanted < s.minExpiresSeconds) return refuse(423, 'Interval Too Brief', { 'Min-Expires': String(s.minExpiresSeconds) });
        updates.push({ contact: c.uri, expires: Math.min(wanted, s.maxExpiresSeconds), q: c.q, ...(c.instance !== undefined ? { instance: c.instance } : {}) });
      }
    }
    const before = this.table.list(agent).length;
    // A UDP phone behind NAT (RFC 3581's case): it sent its REGISTER itself (one Via, no Path), from
    // another address than the sent-by it wrote in its Via. Its contacts at that private sent-by are
    // reached where the REGISTER came from. A proxy's or edge's REGISTER (the Contact or Path is the
    // route) and a third-party registration (RFC 3261 §10.2: another UA's Contact) are not.
    const vias = r.headerLines('via').flatMap((v) => splitList(v) ?? [v]);
    const sentBy = vias.length === 1 ? viaSentBy(vias[0]!) : undefined;
    const behindNat = r.source.transport === 'udp' && path.length === 0 && sentBy !== undefined && !(sentBy.host === r.source.address.toLowerCase() && sentBy.port === r.source.port);
    const natSource = behindNat ? { address: r.source.address, port: r.source.port, sentBy } : undefined;
    const result = this.table.apply({ aor: agent, callId: r.callId, cseq, source, userAgent, path, ...(natSource !== undefined ? { natSource } : {}), removeAll, contacts: updates }, s.maxContacts);
    if (!result.ok) return refuse(result.status, result.reason);
    const t = this.now();
    r.respond(200, 'OK', {
      ...(result.bindings.length > 0 ? { Contact: result.bindings.map((b) => `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - t) / 1000))}`) } : {}),
      Date: new Date(t).toUTCString(),
      // RFC 3327 §5.3: the stored Path goes back to a device that says it supports the extension.
      ...(path.length > 0 && optionTags(r.headerLines('supported')).has('path') ? { Path: path } : {}),
    });
    if (updates.length === 0 && !removeAll) return; // a query (§10.2.3)
    const after = result.bindings.length;
    const change: BindingChange = after < before || (removeAll && before > 0) ? 'unregistered' : result.changed ? 'registered' : 'refreshed';
    this.deps.logger.info({ agent, contacts: after, change, source, userAgent }, change === 'unregistered' ? 'unregistered' : 'registered');
    this.changed(agent, change);
  }
}

/** At most this many Path entries, this long together: they go into every request to the contact. */
const MAX_PATH_ENTRIES = 8;
const MAX_PATH_CHARS = 2048;
/** A display name (token or quoted string), then `<sip:...>` or `<sips:...>`, then route parameters. */
const PATH_VALUE = /^(?:[^"<]*|\s*"(?:[^"\\]|\\.)*"\s*)<(sips?:[^<>\s]+)>((?:\s*;[^;]*)*)$/i;
/** RFC 3261 §25.1 uri-parameter: pname[=pvalue] of paramchars (what the SIP server routes by). */
const URI_PARAM = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+(?:=(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+)?$/;

/**
 * The Path header fields of a REGISTER (RFC 3327 §4: name-addrs with route
 * parameters, the proxy nearest to us first), as given; a string saying what
 * is wrong when one is not a loose route (`lr`) to a SIP URI we can send to,
 * or when there are too many.
 */
export function parsePath(fields: readonly string[]): string[] | string {
  const out: string[] = [];
  for (const f of fields) {
    for (const value of splitList(f) ?? [undefined]) {
      const m = value === undefined ? null : PATH_VALUE.exec(value);
      const address = m === null ? undefined : parseSipAddress(m[1]!);
      if (m === null || address === undefined) return 'Path must be a list of SIP URIs in angle brackets';
      const hostPart = m[1]!.split('?')[0]!;
      const params = hostPart.slice(hostPart.lastIndexOf('@') + 1).split(';').slice(1);
      if (!params.every((p) => URI_PARAM.test(p))) return 'Path has a URI parameter that is not RFC 3261 syntax';
      if (!address.params.has('lr')) return 'Path entries must be loose routes (lr)';
      out.push(value!);
    }
  }
  if (out.length > MAX_PATH_ENTRIES || out.join(', ').length > MAX_PATH_CHARS) return `Path longer than ${MAX_PATH_ENTRIES} entries or ${MAX_PATH_CHARS} characters`;
  return out;
}

/** The option tags of Supported (or Require) header fields, lower-cased. */
function optionTags(fields: readonly string[]): Set<string> {
  return new Set(fields.flatMap((f) => f.split(',')).map((t) => t.trim().toLowerCase()).filter((t) => t !== ''));
}

/** A Via value's sent-by, host lower case (brackets off) and port (5060 when it names none). */
function viaSentBy(via: string): { host: string; port: number } | undefined {
  const m = /^\s*SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+(\[[^\]]+\]|[^\s:;]+)(?:\s*:\s*([0-9]{1,5}))?/i.exec(via);
  return m === null ? undefined : { host: m[1]!.toLowerCase().replace(/^\[|\]$/g, ''), port: m[2] !== undefined ? Number(m[2]) : 5060 };
}
