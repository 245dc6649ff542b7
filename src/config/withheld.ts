/**
 * The view the semantic checks see when the schema refused some values
 * (load.ts module comment): reading a withheld value throws WithheldValue,
 * which abandons the check, or only the list item under forEachItem.
 */
/** Thrown by the view when a check reads a value that failed the schema; caught by the loader (runCheck) or forEachItem. */
export class WithheldValue extends Error {
  constructor(readonly path: string) {
    super(`${path} failed the schema`);
  }
}

/**
 * For checks that look at list items one at a time: runs `fn` on each item,
 * and when it reads a value of the configuration that failed the schema, only
 * that item's examination stops (what it reported before is kept, having come
 * from good values); the other items are still examined. Use it only where
 * skipping an item cannot make a finding wrong: per-item findings, and
 * findings of presence such as duplicates (a skipped item can hide one, never
 * invent one). A finding of absence ("no queue q3") must come from a complete
 * list, read outside `forEachItem`, so that a bad item abandons the check.
 */
export function forEachItem<T>(items: readonly T[], fn: (item: T, index: number) => void): void {
  // The item is read inside the wrapper: when the item itself failed the schema, only it is skipped.
  for (let index = 0; index < items.length; index++) skippingWithheld(() => fn(items[index]!, index));
}

/** Runs `fn`, which stops where it reads a value that failed the schema; the same rules as forEachItem apply. */
export function skippingWithheld(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WithheldValue)) throw e;
  }
}

/** A read-only view of `root` in which reading a path in `withheld` (formatPath form) throws WithheldValue. */
export function withholding<T extends object>(root: T, withheld: ReadonlySet<string>): T {
  const views = new Map<string, object>();
  const wrap = (target: object, at: string): object => {
    let view = views.get(at);
    if (view === undefined) {
      view = new Proxy(target, {
        get(t, prop, receiver) {
          if (typeof prop === 'symbol') return Reflect.get(t, prop, receiver) as unknown;
          const child = /^\d+$/.test(prop) ? `${at}[${prop}]` : at === '' ? prop : `${at}.${prop}`;
          if (withheld.has(child)) throw new WithheldValue(child);
          const v: unknown = Reflect.get(t, prop, receiver);
          return Object.hasOwn(t, prop) && typeof v === 'object' && v !== null ? wrap(v, child) : v;
        },
        set: () => false,
        deleteProperty: () => false,
        defineProperty: () => false,
      });
      views.set(at, view);
    }
    return view;
  };
  return wrap(root, '') as T;
}
