/**
 * How a configuration problem shows the value it is about: short, and never
 * the value of a secret (a password, key, token or shared secret would reach
 * terminals, logs and journald), only its kind and size.
 */
import type { ErrorObject } from 'ajv';

/** Settings whose values are secrets: an error about one never repeats the value (it would reach logs and terminals). */
const SECRET_SETTING = /^(password|secret|authValue|key|token|apiKey)$/i;

export function describerFor(e: ErrorObject): (v: unknown) => string {
  return SECRET_SETTING.test(e.instancePath.split('/').at(-1) ?? '') ? describeSecret : describeAnyValue;
}

/** A secret's kind and size, never its value. */
function describeSecret(v: unknown): string {
  if (typeof v === 'string') return `a string of ${v.length} characters (not shown: a secret)`;
  if (typeof v === 'number') return `a number of ${String(v).length} digits (not shown: a secret; quote it to make it a string)`;
  return describeAnyValue(v);
}

export function describeAnyValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  return `${typeof v} ${JSON.stringify(v) ?? String(typeof v)}`;
}
