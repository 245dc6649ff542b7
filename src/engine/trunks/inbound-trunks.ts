/**
 * Inbound trunks: which carrier an INVITE comes from, told by where it comes
 * from (the source address the transport saw, never anything the message
 * says about itself: Via and Contact are the sender's claims), its port and
 * transport, or by the verified certificate of its TLS connection. The most
 * specific matching source wins: a verified certificate identity, then the
 * longest prefix, then a port, then a transport. A source no trunk claims is
 * unknown: untrusted, or refused (config).
 *
 * A certificate identity (`tlsIdentity`) is matched exactly and
 * case-insensitively (RFC 5922 §7.2: no wildcards, no suffixes) against the
 * identities the embedded SIP server vouches for (`source.tlsIdentities`:
 * only a certificate that chains to a configured CA has any).
 */
import { isIP } from 'node:net';
import type { SwitchboardConfig } from '../../config/load.js';
import type { SignalingSource } from '../signaling/sip-port.js';
import { cidrContains, parseCidr, parseIp, type CidrBlock } from './ip-address.js';
import { TrunkLimiter, type TrunkCounts } from './trunk-limits.js';

type InboundTrunkConfig = SwitchboardConfig['trunks']['inbound'][number];
export type HeaderMappingConfig = SwitchboardConfig['reservedData']['headerMappings'][number];

/** What identifies a trunk's traffic. */
export interface TrunkRule {
  /** Undefined: any address (a rule by certificate identity alone). */
  readonly block?: CidrBlock | undefined;
  readonly port?: number | undefined;
  readonly transport?: string | undefined;
  /** An identity the peer's verified certificate must carry (a domain or an IP address, lower case). */
  readonly tlsIdentity?: string | undefined;
}

/** Where a request came from, as the app learns it. */
export type TrunkSource = SignalingSource;

export interface InboundTrunk {
  readonly id: string;
  readonly name: string;
  readonly trusted: boolean;
  /** The mapping its reserved data is read with (trusted trunks only). */
  readonly headerMapping: HeaderMappingConfig | undefined;
  readonly rules: readonly TrunkRule[];
  readonly limiter: TrunkLimiter;
  /** Whether it may call `dialed`. */
  allows(dialed: string): boolean;
}

/** What call records and logs say of the trunk. */
export interface TrunkRef {
  /** null: no trunk matched the source (an unknown, untrusted source). */
  readonly id: string | null;
  readonly name: string | null;
  readonly trusted: boolean;
}

export const UNKNOWN_TRUNK: TrunkRef = { id: null, name: null, trusted: false };

export function trunkRefOf(t: InboundTrunk | undefined): TrunkRef {
  return t === undefined ? UNKNOWN_TRUNK : { id: t.id, name: t.name, trusted: t.trusted };
}

/** A configured certificate identity as the SIP server writes identities: lower case, an IPv6 address in its canonical text form. */
export function canonicalIdentity(identity: string): string {
  if (isIP(identity) !== 6) return identity.toLowerCase();
  try {
    return new URL(`http://[${identity}]/`).hostname.slice(1, -1);
  } catch {
    return identity.toLowerCase();
  }
}

function numberMatcher(numbers: readonly string[] | undefined): (dialed: string) => boolean {
  if (numbers === undefined) return () => true;
  const plain = (n: string): string => (n.startsWith('+') ? n.slice(1) : n);
  const exact = new Set(numbers.filter((n) => !n.endsWith('*')).map(plain));
  const prefixes = numbers.filter((n) => n.endsWith('*')).map((n) => plain(n.slice(0, -1)));
  return (dialed) => {
    const d = plain(dialed);
    return exact.has(d) || prefixes.some((p) => d.startsWith(p));
  };
}

/** Orders matching rules: a verified certificate identity first (it is proof, an address is not), then the longest prefix, a port, a transport. */
function specificity(r: TrunkRule): number {
  return (r.tlsIdentity !== undefined ? 10_000 : 0) + (r.block?.prefix ?? 0) * 8 + (r.port !== undefined ? 4 : 0) + (r.transport !== undefined ? 2 : 0);
}

function ruleMatches(r: TrunkRule, source: TrunkSource, addr: NonNullable<ReturnType<typeof parseIp>>): boolean {
  if (r.block !== undefined && !cidrContains(r.block, addr)) return false;
  if (r.port !== undefined && r.port !== source.port) return false;
  if (r.transport !== undefined && r.transport !== source.transport.toLowerCase()) return false;
  if (r.tlsIdentity !== undefined) {
    const wanted = r.tlsIdentity.toLowerCase();
    if (source.tlsIdentities?.some((i) => i.toLowerCase() === wanted) !== true) return false;
  }
  return true;
}

/** Finds the trunk of a source among rules, the most specific first. */
export class TrunkMatcher<T> {
  private readonly ordered: { readonly rule: TrunkRule; readonly trunk: T }[];

  constructor(entries: readonly { readonly rule: TrunkRule; readonly trunk: T }[]) {
    this.ordered = [...entries].sort((a, b) => specificity(b.rule) - specificity(a.rule));
  }

  /** The trunk `source` belongs to; undefined for an unknown source. */
  identify(source: TrunkSource): T | undefined {
    const addr = parseIp(source.address);
    if (addr === undefined) return undefined;
    return this.ordered.find((o) => ruleMatches(o.rule, source, addr))?.trunk;
  }
}

/** The name the sources no trunk claims go by in counts and metrics (not a valid trunk id). */
export const UNKNOWN_SOURCES = '(unknown sources)';

export class InboundTrunks {
  readonly all: readonly InboundTrunk[];
  readonly refuseUnknown: boolean;
  /** The limits every call from an unknown source shares (`trunks.unknownSourceLimits`). */
  readonly unknownLimiter: TrunkLimiter;
  private readonly matcher: TrunkMatcher<InboundTrunk>;

  constructor(config: SwitchboardConfig, now: () => number = () => performance.now()) {
    const mappings = new Map(config.reservedData.headerMappings.map((m) => [m.id, m]));
    this.refuseUnknown = config.trunks.unknownSources === 'refuse';
    this.unknownLimiter = new TrunkLimiter(config.trunks.unknownSourceLimits, now);
    this.all = config.trunks.inbound.map((t) => build(t, mappings, now));
    this.matcher = new TrunkMatcher(this.all.flatMap((trunk) => trunk.rules.map((rule) => ({ rule, trunk }))));
  }

  /** The trunk `source` belongs to; undefined for an unknown source. */
  identify(source: TrunkSource): InboundTrunk | undefined {
    return this.matcher.identify(source);
  }

  /** Per-trunk counts for the status endpoint; the sources no trunk claims as `(unknown sources)` when they are accepted. */
  counts(): Record<string, TrunkCounts> {
    const unknown: [string, TrunkCounts][] = this.refuseUnknown ? [] : [[UNKNOWN_SOURCES, { ...this.unknownLimiter.counts }]];
    return Object.fromEntries([...this.all.map((t): [string, TrunkCounts] => [t.id, { ...t.limiter.counts }]), ...unknown]);
  }
}

function build(t: InboundTrunkConfig, mappings: ReadonlyMap<string, HeaderMappingConfig>, now: () => number): InboundTrunk {
  const rules: TrunkRule[] = [];
  for (const s of t.sources) {
    // Config checks refused unparsable blocks (and sources with neither address nor identity) before the engine starts.
    const block = s.address === undefined ? undefined : parseCidr(s.address);
    if (typeof block === 'string') throw new Error(`trunk ${t.id}: ${block}`);
    rules.push({ block, port: s.port, transport: s.transport, tlsIdentity: s.tlsIdentity !== undefined ? canonicalIdentity(s.tlsIdentity) : undefined });
  }
  const trusted = t.trusted;
  return {
    id: t.id,
    name: t.name ?? t.id,
    trusted,
    headerMapping: trusted && t.headerMapping !== undefined ? mappings.get(t.headerMapping) : undefined,
    rules,
    limiter: new TrunkLimiter(t.limits, now),
    allows: numberMatcher(t.numbers),
  };
}
