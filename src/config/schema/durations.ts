/**
 * Every duration setting (a number whose name ends in `Seconds` or `Ms`) is
 * bounded by the longest a Node.js timer can wait, 2^31-1 ms (24.8 days):
 * `setTimeout` fires a longer delay after 1 ms, so a "no practical limit"
 * such as `engine.maxCallSeconds: 2592000` (30 days) would end every call at
 * once. Settings with a tighter maximum of their own keep it. Applied to the
 * whole schema once, so a new duration setting is covered without a word.
 */
import type { TSchema } from '@sinclair/typebox';

/** The longest delay a Node.js timer takes (setTimeout, setInterval). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

interface NumberSchema {
  type?: unknown;
  maximum?: number;
  exclusiveMaximum?: number;
}

function bound(schema: NumberSchema, limit: number): void {
  if (schema.type !== 'number' && schema.type !== 'integer') return;
  if (schema.exclusiveMaximum !== undefined && schema.exclusiveMaximum <= limit) return;
  if (schema.maximum === undefined || schema.maximum > limit) schema.maximum = limit;
}

/** Walks `schema` (objects, arrays, unions) and bounds every duration it holds; returns it. */
export function boundDurations<T extends TSchema>(schema: T): T {
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const s = node as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[]; oneOf?: unknown[]; allOf?: unknown[]; additionalProperties?: unknown };
    for (const [key, child] of Object.entries(s.properties ?? {})) {
      if (/Seconds$/.test(key)) bound(child as NumberSchema, MAX_TIMER_SECONDS);
      else if (/Ms$/.test(key)) bound(child as NumberSchema, MAX_TIMER_MS);
      visit(child);
    }
    visit(s.items);
    visit(s.additionalProperties);
    for (const list of [s.anyOf, s.oneOf, s.allOf]) for (const child of list ?? []) visit(child);
  };
  visit(schema);
  return schema;
}
