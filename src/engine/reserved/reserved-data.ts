/**
 * A call's reserved properties (PRODUCT.md §4): each true, false or unset,
 * with who set it (`header:<name>` for a trusted trunk's header, `api:<user>`
 * for a supervisor mid-call). The session owns one; changes are announced so
 * the API's event stream shows them.
 */
import { RESERVED_PROPERTIES, type ReservedProperty } from '../../config/schema/reserved-data.js';

export type ReservedValues = Partial<Record<ReservedProperty, boolean>>;

export interface ReservedEntry {
  readonly value: boolean;
  readonly by: string;
  readonly at: number;
}

export class ReservedData {
  private readonly entries = new Map<ReservedProperty, ReservedEntry>();

  constructor(
    private readonly now: () => number,
    private readonly changed: () => void,
  ) {}

  get(p: ReservedProperty): boolean | undefined {
    return this.entries.get(p)?.value;
  }

  /** The properties that are set, in the product's order. */
  values(): ReservedValues {
    const out: ReservedValues = {};
    for (const p of RESERVED_PROPERTIES) {
      const e = this.entries.get(p);
      if (e !== undefined) out[p] = e.value;
    }
    return out;
  }

  /** Who set each property that is set. */
  setBy(): Partial<Record<ReservedProperty, string>> {
    const out: Partial<Record<ReservedProperty, string>> = {};
    for (const p of RESERVED_PROPERTIES) {
      const e = this.entries.get(p);
      if (e !== undefined) out[p] = e.by;
    }
    return out;
  }

  /** The properties that are true, in the product's order. */
  trueOnes(): ReservedProperty[] {
    return RESERVED_PROPERTIES.filter((p) => this.entries.get(p)?.value === true);
  }

  /** Sets (or with null clears) properties; returns whether anything changed. */
  apply(changes: Partial<Record<ReservedProperty, boolean | null>>, by: string): boolean {
    let any = false;
    for (const p of RESERVED_PROPERTIES) {
      if (!Object.hasOwn(changes, p)) continue;
      const v = changes[p];
      if (v === undefined) continue;
      const current = this.entries.get(p);
      if (v === null) {
        if (current === undefined) continue;
        this.entries.delete(p);
      } else {
        if (current?.value === v) continue;
        this.entries.set(p, { value: v, by, at: this.now() });
      }
      any = true;
    }
    if (any) this.changed();
    return any;
  }
}
