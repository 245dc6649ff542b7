/**
 * Finding every prompt in a configuration without knowing who declared it:
 * the schema is walked for uses of the shared `PromptSpec`
 * (src/config/schema/common.ts), and the configuration is walked along the
 * same paths. Policy messages, voicemail prompts and whatever comes later are
 * found (checked and pre-rendered) as soon as their schema uses PromptSpec.
 */
import type { TSchema } from '@sinclair/typebox';
import { forEachItem, formatPath, skippingWithheld, type SwitchboardConfig } from '../../config/load.js';
import { PromptSpec } from '../../config/schema/common.js';
import { ConfigSchema } from '../../config/schema/index.js';

/** A prompt as the configuration writes it (the PromptSpec shape). */
export interface PromptSpecValue {
  readonly text?: string;
  readonly file?: string;
  readonly language?: string;
  readonly speed?: number;
}

export interface ConfiguredPrompt {
  /** Where it is, e.g. `policy.afterHours.message.en` or `queues[2].afterHours.message.id`. */
  readonly path: string;
  readonly spec: PromptSpecValue;
  /**
   * The map key the prompt sits under, when that key is a language tag (maps of
   * prompts keyed by language): the language to speak when the spec names none.
   */
  readonly languageKey?: string;
}

interface SchemaNode {
  type?: unknown;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
}

const PROMPT_KEYS = Object.keys((PromptSpec as SchemaNode).properties ?? {}).sort().join(',');
const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function isPromptSpecSchema(s: SchemaNode): boolean {
  if (s === (PromptSpec as SchemaNode)) return true;
  // Type.Composite and friends may copy schemas: recognise the shape too.
  return s.properties !== undefined && Object.keys(s.properties).sort().join(',') === PROMPT_KEYS;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_DEPTH = 32;

function collect(schema: SchemaNode, value: unknown, path: (string | number)[], viaMapKey: boolean, out: Map<string, ConfiguredPrompt>, depth: number): void {
  if (depth > MAX_DEPTH || value === undefined) return;
  if (isPromptSpecSchema(schema)) {
    if (isRecord(value)) {
      const key = path[path.length - 1];
      const languageKey = viaMapKey && typeof key === 'string' && LANGUAGE_TAG.test(key) ? key : undefined;
      out.set(formatPath(path), { path: formatPath(path), spec: value, ...(languageKey !== undefined ? { languageKey } : {}) });
    }
    return;
  }
  for (const alt of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) collect(alt, value, path, viaMapKey, out, depth + 1);
  if (Array.isArray(value) && schema.items !== undefined) {
    forEachItem(value, (item, i) => collect(schema.items!, item, [...path, i], false, out, depth + 1));
    return;
  }
  if (!isRecord(value)) return;
  const named = schema.properties ?? {};
  // Finding prompts may skip a value that failed the schema (the loader withholds it from the checks): it hides no prompt elsewhere.
  for (const [k, sub] of Object.entries(named)) skippingWithheld(() => collect(sub, value[k], [...path, k], false, out, depth + 1));
  for (const k of Object.keys(value)) {
    if (k in named) continue;
    skippingWithheld(() => {
      const v = value[k];
      for (const [pattern, sub] of Object.entries(schema.patternProperties ?? {})) {
        if (new RegExp(pattern).test(k)) collect(sub, v, [...path, k], true, out, depth + 1);
      }
      if (typeof schema.additionalProperties === 'object') collect(schema.additionalProperties, v, [...path, k], true, out, depth + 1);
    });
  }
}

/** Every PromptSpec value in `config`, in document order. */
export function findConfiguredPrompts(config: SwitchboardConfig | Record<string, unknown>, schema: TSchema = ConfigSchema): ConfiguredPrompt[] {
  const out = new Map<string, ConfiguredPrompt>();
  collect(schema as SchemaNode, config, [], false, out, 0);
  return [...out.values()];
}

function schemaHasPrompt(s: SchemaNode, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (isPromptSpecSchema(s)) return true;
  const subs = [
    ...Object.values(s.properties ?? {}),
    ...Object.values(s.patternProperties ?? {}),
    ...(typeof s.additionalProperties === 'object' ? [s.additionalProperties] : []),
    ...(s.items !== undefined ? [s.items] : []),
    ...(s.anyOf ?? []),
    ...(s.oneOf ?? []),
    ...(s.allOf ?? []),
  ];
  return subs.some((x) => schemaHasPrompt(x, depth + 1));
}

/** Top-level sections whose schema contains a PromptSpec somewhere. */
export function sectionsWithPrompts(schema: TSchema = ConfigSchema): string[] {
  return Object.entries((schema as SchemaNode).properties ?? {})
    .filter(([, s]) => schemaHasPrompt(s, 0))
    .map(([k]) => k);
}
