/**
 * The API keys file: `{"version":1,"keys":[{id,user,role,teams?,device?,hash,createdAt}]}`,
 * written only by `switchboard keys` (atomically: a temporary file renamed
 * over it, mode 0600) and read by the API at start, on SIGHUP and whenever it
 * changes. Hashes only: a stolen file gives no working key.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import type { DeepReadonly, SwitchboardConfig } from '../../config/load.js';
import { KeyEntryFields } from '../../config/schema/api.js';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { RoleBook } from './roles.js';

export const StoredKeySchema = Type.Object(
  { ...KeyEntryFields, createdAt: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);
export type StoredKey = DeepReadonly<Static<typeof StoredKeySchema>>;

const KeysFileSchema = Type.Object({ version: Type.Literal(1), keys: Type.Array(StoredKeySchema) }, { additionalProperties: false });

let validate: ReturnType<Ajv['compile']> | undefined;

export class KeysFileError extends SwitchboardError {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(ErrorCodes.API_KEYS_INVALID, `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Where the keys file is: `api.keysFile`, or `<stateDir>/api/keys.json`; relative paths against `baseDir`. */
export function keysFilePath(config: SwitchboardConfig, baseDir: string): string {
  return resolve(baseDir, config.api.keysFile ?? join(config.node.stateDir, 'api', 'keys.json'));
}

/** Problems of a list of key entries: unknown roles, duplicate ids. */
export function keyEntryProblems(keys: readonly StoredKey[], roles: RoleBook, where: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (roles.get(k.role) === undefined) problems.push(`${where}[${i}].role: unknown role "${k.role}" (known: ${roles.ids().join(', ')})`);
    if (seen.has(k.id)) problems.push(`${where}[${i}].id: the key id ${k.id} is used twice`);
    seen.add(k.id);
  });
  return problems;
}

/** Reads the keys file; a missing file is an empty list. Throws KeysFileError listing every problem. */
export function readKeysFile(file: string, roles: RoleBook): StoredKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new KeysFileError(file, [`cannot be read (${(e as Error).message})`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new KeysFileError(file, [`not JSON (${(e as Error).message})`]);
  }
  if (validate === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addKeyword({ keyword: 'errorHint', schemaType: 'string' });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    validate = ajv.compile(KeysFileSchema);
  }
  if (!validate(value)) {
    throw new KeysFileError(file, (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '(top level)' : e.instancePath}: ${e.message ?? 'invalid'}`));
  }
  const keys = (value as Static<typeof KeysFileSchema>).keys;
  const problems = keyEntryProblems(keys, roles, 'keys');
  if (problems.length > 0) throw new KeysFileError(file, problems);
  return keys;
}

/** Replaces the keys file atomically (readers see the old or the new list, never half of one). */
export function writeKeysFile(file: string, keys: readonly StoredKey[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
