/**
 * The location service of the registrar (RFC 3261 §10.3 steps 6-8): each
 * address of record (an agent id) has bindings to contact addresses, each with
 * an expiry, the Call-ID and CSeq of the REGISTER that last set it, and when it
 * was registered (for "ring the newest"). Updates follow the RFC: `*` with
 * expires 0 removes every binding; a contact with expires 0 removes its own;
 * for an existing binding, a REGISTER with the same Call-ID and a CSeq not
 * higher than the stored one is out of order and changes nothing. A contact
 * with a `+sip.instance` is bound by that instance, not by its URI (RFC 5626
 * §6): the same device registering from a new address replaces its binding.
 *
 * Plain data, no timers: the registrar sweeps expired bindings with `expire()`.
 */
import { bindingKey, contactKey, parseSipAddress } from './contact-list.js';

export interface Binding {
  readonly aor: string;
  readonly contact: string;
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  readonly q: number | undefined;
  readonly registeredAt: number;
  /** Where the REGISTER came from (transport:address:port), for the supervisors' view. */
  readonly source: string;
  readonly userAgent: string | undefined;
  /** The REGISTER's Path (RFC 3327), first hop from us first: the Route of every request to the contact. Absent: sent straight to it. */
  readonly path?: readonly string[];
  /**
   * A UDP phone behind NAT (one Via, no Path, its Via's sent-by and this Contact a private address,
   * the REGISTER from another, RFC 3581's case): requests to it go to that source, as `sip:host:port`.
   */
  readonly reachAt?: string;
  /** The device's `+sip.instance` (RFC 5626 §4.1), lower case: the binding's key in place of its Contact. */
  readonly instance?: string;
}

export interface ContactUpdate {
  readonly contact: string;
  /** Granted expiry in seconds; 0 removes the binding. */
  readonly expires: number;
  readonly q: number | undefined;
  /** The contact's `+sip.instance`, when it has one. */
  readonly instance?: string;
}

export interface RegisterUpdate {
  readonly aor: string;
  readonly callId: string;
  readonly cseq: number;
  readonly source: string;
  readonly userAgent: string | undefined;
  /** The REGISTER's Path header values, in order (empty when it came straight from the device). */
  readonly path: readonly string[];
  /** Where the REGISTER came from when that is where its UDP phone is reached (see Binding.reachAt); undefined otherwise. */
  readonly natSource?: { readonly address: string; readonly port: number; readonly sentBy: { readonly host: string; readonly port: number } };
  /** `Contact: *` with expires 0. */
  readonly removeAll: boolean;
  readonly contacts: readonly ContactUpdate[];
}

export type UpdateResult = { readonly ok: true; readonly changed: boolean; readonly bindings: readonly Binding[] } | { readonly ok: false; readonly status: number; readonly reason: string };

export class BindingTable {
  private readonly byAor = new Map<string, Map<string, Binding>>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    let n = 0;
    for (const m of this.byAor.values()) n += m.size;
    return n;
  }

  /** Live bindings of `aor`, newest registration first. */
  list(aor: string): Binding[] {
    const t = this.now();
    return [...(this.byAor.get(aor)?.values() ?? [])].filter((b) => b.expiresAt > t).sort((a, b) => b.registeredAt - a.registeredAt);
  }

  aors(): string[] {
    return [...this.byAor.keys()];
  }

  all(): Binding[] {
    return this.aors().flatMap((a) => this.list(a));
  }

  /**
   * Applies one REGISTER (RFC 3261 §10.3 steps 6-7), all or nothing:
   * `maxContacts` bounds the bindings an AOR may hold after the update.
   */
  apply(u: RegisterUpdate, maxContacts: number): UpdateResult {
    const t = this.now();
    const current = new Map([...(this.byAor.get(u.aor) ?? new Map<string, Binding>())].filter(([, b]) => b.expiresAt > t));
    if (u.removeAll) {
      // §10.3 step 6: a `*` REGISTER whose Call-ID matches a binding with a CSeq not lower is out of order.
      for (const b of current.values()) if (b.callId === u.callId && u.cseq <= b.cseq) return { ok: false, status: 400, reason: 'Bad Request (CSeq out of order)' };
      const changed = current.size > 0;
      this.byAor.delete(u.aor);
      return { ok: true, changed, bindings: [] };
    }
    const next = new Map(current);
    let changed = false;
    for (const c of u.contacts) {
      const key = bindingKey(c.contact, c.instance);
      const existing = next.get(key);
      if (existing !== undefined && existing.callId === u.callId && u.cseq <= existing.cseq) {
        return { ok: false, status: 400, reason: 'Bad Request (CSeq out of order)' };
      }
      // One binding per device and address: a contact bound by its URI and by an instance id is the same phone.
      const uriKey = contactKey(c.contact);
      for (const [k, b] of next) if (k !== key && contactKey(b.contact) === uriKey && next.delete(k)) changed = true;
      if (c.expires === 0) {
        if (next.delete(key)) changed = true;
        continue;
      }
      next.set(key, {
        aor: u.aor,
        contact: c.contact,
        expiresAt: t + c.expires * 1000,
        callId: u.callId,
        cseq: u.cseq,
        q: c.q,
        // A refresh keeps its age: "the newest" is the device that registered last, not the last to refresh.
        registeredAt: existing !== undefined && existing.contact === c.contact ? existing.registeredAt : t,
        source: u.source,
        userAgent: u.userAgent,
        ...(u.path.length > 0 ? { path: u.path } : {}),
        ...natReach(c.contact, u.natSource),
        ...(c.instance !== undefined ? { instance: c.instance } : {}),
      });
      if (existing === undefined || existing.contact !== c.contact) changed = true;
    }
    if (next.size > maxContacts) return { ok: false, status: 403, reason: `Forbidden (at most ${maxContacts} contacts per agent)` };
    if (next.size === 0) this.byAor.delete(u.aor);
    else this.byAor.set(u.aor, next);
    return { ok: true, changed, bindings: this.list(u.aor) };
  }

  /** Removes the binding to `contact` (keep-alive failure); true when it was there. */
  remove(aor: string, contact: string): boolean {
    const m = this.byAor.get(aor);
    const wanted = contactKey(contact);
    let removed = false;
    for (const [k, b] of m ?? []) if (contactKey(b.contact) === wanted) removed = m!.delete(k) || removed;
    if (m !== undefined && m.size === 0) this.byAor.delete(aor);
    return removed;
  }

  /** Drops expired bindings; returns the AORs that lost some. */
  expire(): string[] {
    const t = this.now();
    const touched: string[] = [];
    for (const [aor, m] of this.byAor) {
      let lost = false;
      for (const [k, b] of m) {
        if (b.expiresAt <= t) {
          m.delete(k);
          lost = true;
        }
      }
      if (m.size === 0) this.byAor.delete(aor);
      if (lost) touched.push(aor);
    }
    return touched;
  }

  /** Restores stored bindings (a restart); expired ones are dropped. */
  load(bindings: readonly Binding[]): void {
    const t = this.now();
    for (const b of bindings) {
      if (b.expiresAt <= t) continue;
      const m = this.byAor.get(b.aor) ?? new Map<string, Binding>();
      m.set(bindingKey(b.contact, b.instance), b);
      this.byAor.set(b.aor, m);
    }
  }
}

/** A contact at the private address the phone wrote in its Via is reached at the REGISTER's source. */
function natReach(contact: string, source: RegisterUpdate['natSource']): { reachAt?: string } {
  if (source === undefined) return {};
  const at = parseSipAddress(contact);
  if (at === undefined || at.host.replace(/^\[|\]$/g, '') !== source.sentBy.host || (at.port ?? 5060) !== source.sentBy.port) return {};
  return { reachAt: `sip:${source.address.includes(':') ? `[${source.address}]` : source.address}:${source.port}` };
}
