/**
 * Loading a configuration: YAML → one schema (with defaults) → semantic checks
 * supplied by the modules → deep-frozen value. Every problem found on the way
 * is collected, and they are reported together in one ConfigError.
 *
 * The semantic checks run even when the schema found problems, so that one run
 * reports everything that can be known (an operator must not fix a file in
 * rounds). They must not reason from a value the schema refused, or they would
 * report problems that are only echoes of it (a port range "70000-42000" when
 * portMin was 70000). So each value that failed the schema is withheld: the
 * checks see the configuration through a view in which reading such a value
 * (or a missing required one, or an unknown key) throws an internal signal.
 * A check that reads a withheld value is abandoned and its findings dropped:
 * every finding of a check that completes was derived from values that passed
 * the schema, which is the guarantee. Checks that examine list items one at a
 * time use `forEachItem`, which abandons only the item that read the withheld
 * value, so one bad queue does not hide the problems of the others, and
 * `skippingWithheld` around each independent part of a check (the policy's
 * queue tree, each hours scope, each deflection circle walk), so a bad value
 * ends only the part that reads it. A check
 * that throws anything else is reported as a problem of its own instead of
 * crashing the loader, so it cannot hide the other checks' findings either.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError, ErrorCodes, SwitchboardError, type ConfigProblem } from '../errors.js';
import { ConfigSchema, type Config } from './schema/index.js';
import { MAX_TIMER_MS, MAX_TIMER_SECONDS } from './schema/durations.js';
import { describeAnyValue, describerFor } from './describe-value.js';
import { WithheldValue, withholding } from './withheld.js';

export { forEachItem, skippingWithheld } from './withheld.js';

export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A loaded, validated, frozen configuration. */
export type SwitchboardConfig = DeepReadonly<Config>;

/**
 * A semantic check contributed by a module (time zones, references between
 * queues, ...). Every check runs, even when the schema found problems; it may
 * rely on the shapes of the values it reads, because reading a value that
 * failed the schema abandons the check (see the module comment and
 * `forEachItem`). Checks must be independent of each other: none may assume
 * another one passed.
 */
export interface ConfigCheck {
  readonly name: string;
  /** Top-level keys the check reads (documentation; the loader withholds bad values, not sections). */
  readonly sections: readonly string[];
  check(config: SwitchboardConfig, context?: ConfigCheckContext): ConfigProblem[];
}

/** What a check may need beyond the values: where relative paths in them point. */
export interface ConfigCheckContext {
  /** Relative paths resolve against this: the config file's folder (else the working directory). */
  readonly baseDir: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
    ajv.addKeyword({ keyword: 'errorHint', schemaType: 'string' });
    compiled = ajv.compile(ConfigSchema);
  }
  return compiled;
}

export interface LoadOptions {
  readonly checks?: readonly ConfigCheck[];
  /** Where relative paths resolve for the checks (default: the file's folder, else the working directory). */
  readonly baseDir?: string;
}

/** Reads and validates a YAML file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string, options: LoadOptions = {}): SwitchboardConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SwitchboardError(ErrorCodes.CONFIG_UNREADABLE, `${file}: cannot read configuration (${(e as Error).message})`, {
      cause: e,
    });
  }
  return loadConfigText(text, { baseDir: dirname(resolve(file)), ...options, file });
}

/** Validates YAML text. `file` only labels the messages. */
export function loadConfigText(text: string, options: LoadOptions & { file?: string } = {}): SwitchboardConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const label = options.file ?? 'config';
  const yamlProblems: ConfigProblem[] = [...doc.errors, ...doc.warnings].map((err) => {
    const pos = lineCounter.linePos(err.pos[0]);
    return { path: '', message: `YAML: ${err.message.split('\n')[0] ?? err.code}`, location: `${label}:${pos.line}:${pos.col}` };
  });
  if (doc.errors.length > 0) throw new ConfigError(yamlProblems, options.file);
  const value: unknown = doc.toJS() ?? {};
  const locate = (path: readonly (string | number)[], key?: string): string | undefined => {
    const node = nodeAt(doc, path, key);
    if (node?.range == null) return undefined;
    const pos = lineCounter.linePos(node.range[0]);
    return `${label}:${pos.line}:${pos.col}`;
  };
  return validateConfig(value, { ...options, locate, extraProblems: yamlProblems });
}

/** Validates a plain value (tests and programmatic use). */
export function loadConfigObject(value: unknown, options: LoadOptions = {}): SwitchboardConfig {
  return validateConfig(structuredClone(value ?? {}), options);
}

interface ValidateOptions extends LoadOptions {
  readonly file?: string;
  readonly locate?: (path: readonly (string | number)[], key?: string) => string | undefined;
  readonly extraProblems?: readonly ConfigProblem[];
}

function validateConfig(value: unknown, options: ValidateOptions): SwitchboardConfig {
  const problems: ConfigProblem[] = [...(options.extraProblems ?? [])];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ path: '', message: 'expected a mapping of settings at the top level' });
    throw new ConfigError(problems, options.file);
  }
  const validate = validator();
  const withheld = new Set<string>();
  if (!validate(value)) {
    for (const p of describeAjvErrors(validate.errors ?? [], options.locate)) {
      problems.push(p.problem);
      withheld.add(formatPath(p.withheld));
    }
  }
  const config = value as SwitchboardConfig;
  const view = withheld.size > 0 ? withholding(config, withheld) : config;
  const context: ConfigCheckContext = { baseDir: options.baseDir ?? process.cwd() };
  for (const check of options.checks ?? []) {
    for (const p of runCheck(check, view, context)) {
      const segments = parsePath(p.path);
      // A finding about a withheld value itself only repeats the schema's problem.
      if (segments.some((_, i) => withheld.has(formatPath(segments.slice(0, i + 1))))) continue;
      problems.push(p.location !== undefined ? p : { ...p, location: options.locate?.(segments) });
    }
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems), options.file);
  return deepFreeze(config);
}

function runCheck(check: ConfigCheck, config: SwitchboardConfig, context: ConfigCheckContext): readonly ConfigProblem[] {
  try {
    return check.check(config, context);
  } catch (e) {
    // It read a value the schema refused: whatever it found may rest on that value.
    if (e instanceof WithheldValue) return [];
    return [{ path: '', message: `the check "${check.name}" failed (${e instanceof Error ? e.message : String(e)}); this is a bug, please report it` }];
  }
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value as DeepReadonly<T>;
}

// ---------------------------------------------------------------------------
// Turning Ajv's errors into sentences an operator can act on.

interface LocatedProblem {
  readonly problem: ConfigProblem;
  /** The value the problem makes unusable: the checks must not read it (a missing or unknown key's own path). */
  readonly withheld: readonly (string | number)[];
}

function pointerToSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `queues[2].agents[0]` */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** Inverse of formatPath. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function messageFor(e: ErrorObject): string {
  const schema = (e.parentSchema ?? {}) as { errorHint?: string; description?: string };
  const describeValue = describerFor(e);
  switch (e.keyword) {
    case 'required':
      return `missing required setting "${String(e.params.missingProperty)}"`;
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys((schema as { properties?: object }).properties ?? {});
      const guess = closest(key, allowed);
      return `unknown setting "${key}"${guess !== undefined ? ` (did you mean "${guess}"?)` : ''}; allowed: ${allowed.join(', ')}`;
    }
    case 'type': {
      // YAML reads unquoted digits as a number: a phone number's leading 0 or + is gone before we see it.
      const quote = e.params.type === 'string' && typeof e.data === 'number' && describeValue === describeAnyValue ? '; quote it ("...") to keep it as written: YAML reads unquoted digits as a number and drops a leading 0 or +' : '';
      return `expected ${String(e.params.type)}, got ${describeValue(e.data)}${quote}`;
    }
    case 'enum':
      return `expected one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}; got ${describeValue(e.data)}`;
    case 'const':
      return `expected ${JSON.stringify(e.params.allowedValue)}, got ${describeValue(e.data)}`;
    case 'pattern':
    case 'format':
      return `expected ${schema.errorHint ?? `a value matching ${String(e.params.pattern ?? e.params.format)}`}, got ${describeValue(e.data)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const op = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
      const why = e.keyword === 'maximum' && (e.params.limit === MAX_TIMER_SECONDS || e.params.limit === MAX_TIMER_MS) ? ' (24.8 days: the longest a timer can wait)' : '';
      return `expected a number ${op} ${String(e.params.limit)}${why}, got ${describeValue(e.data)}`;
    }
    case 'minLength':
      return e.params.limit === 1 ? 'must not be empty' : `expected at least ${String(e.params.limit)} characters`;
    case 'maxLength':
      return `expected at most ${String(e.params.limit)} characters`;
    case 'minItems':
      return `expected at least ${String(e.params.limit)} item${e.params.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `expected at most ${String(e.params.limit)} items`;
    case 'uniqueItems':
      return `items ${String(e.params.j)} and ${String(e.params.i)} are the same; each may appear once`;
    default:
      return e.message ?? `invalid (${e.keyword})`;
  }
}

/**
 * anyOf/oneOf produce one error per branch. Keep the branch that got furthest
 * (deepest instance path, then fewest errors) and drop the others, so a union
 * reports what is wrong with the form the operator most likely meant.
 */
function collapseUnions(errors: readonly ErrorObject[]): ErrorObject[] {
  const unionErrors = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (unionErrors.length === 0) return [...errors];
  const dropped = new Set<ErrorObject>();
  // innermost unions first so nested unions are resolved before their parents
  const sorted = [...unionErrors].sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const u of sorted) {
    const prefix = `${u.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (e === u || dropped.has(e) || !e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      const list = branches.get(branch) ?? [];
      list.push(e);
      branches.set(branch, list);
    }
    if (branches.size === 0) continue;
    const score = (list: ErrorObject[]): [number, number] => [
      Math.max(...list.map((e) => e.instancePath.length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 0 : 1))),
      -list.length,
    ];
    let best: ErrorObject[] | undefined;
    for (const list of branches.values()) {
      if (best === undefined) {
        best = list;
        continue;
      }
      const [d1, n1] = score(list);
      const [d2, n2] = score(best);
      if (d1 > d2 || (d1 === d2 && n1 > n2)) best = list;
    }
    for (const list of branches.values()) if (list !== best) list.forEach((e) => dropped.add(e));
    // A branch that failed only on its own type check means no branch fits at all.
    const onlyTypeMismatch = best?.every((e) => e.instancePath === u.instancePath && (e.keyword === 'type' || e.keyword === 'const'));
    if (onlyTypeMismatch !== true) dropped.add(u);
    else best?.forEach((e) => dropped.add(e));
  }
  return errors.filter((e) => !dropped.has(e));
}

function describeAjvErrors(
  errors: readonly ErrorObject[],
  locate?: (path: readonly (string | number)[], key?: string) => string | undefined,
): LocatedProblem[] {
  return collapseUnions(errors).map((e) => {
    const segments = pointerToSegments(e.instancePath);
    let message = messageFor(e);
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') message = `does not match any allowed form, got ${describerFor(e)(e.data)}`;
    const key = e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : undefined;
    const location = locate?.(segments, key);
    const missing = e.keyword === 'required' ? String(e.params.missingProperty) : undefined;
    const child = key ?? missing;
    const withheld = child === undefined ? segments : [...segments, /^\d+$/.test(child) ? Number(child) : child];
    return { problem: { path: formatPath(segments), message, ...(location !== undefined ? { location } : {}) }, withheld };
  });
}

function nodeAt(doc: Document, path: readonly (string | number)[], key?: string): YamlNode | undefined {
  let node: unknown = doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (pair === undefined) return node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      const next: unknown = node.items[seg];
      if (next === undefined) return node;
      node = next;
    } else {
      return node as YamlNode | undefined;
    }
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
    if (pair !== undefined && isScalar(pair.key)) return pair.key;
  }
  return node as YamlNode | undefined;
}

/** The configuration with every default applied: what `switchboard start` runs with no file. */
export function defaultConfig(options: LoadOptions = {}): SwitchboardConfig {
  return loadConfigObject({}, options);
}

export type { Config };
