/**
 * The recording keys: the current one (encrypts new files) and retired ones
 * (still decrypt older files). Keys never leave this object in printable form:
 * inspecting, logging or serialising a KeyRing shows only key ids.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { ErrorCodes, SwitchboardError } from '../../errors.js';

export class RecordingKeyError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.RECORDING_KEY, message, options);
  }
}

export const KEY_BYTES = 32;

export function decodeKey(text: string, what: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== text.trim()) {
    throw new RecordingKeyError(`${what}: expected a 256-bit key in base64 (44 characters), e.g. from: openssl rand -base64 32`);
  }
  return key;
}

export class KeyRing {
  readonly #keys: Map<string, Buffer>;

  constructor(
    readonly currentId: string,
    current: Buffer,
    previous: readonly { readonly id: string; readonly key: Buffer }[] = [],
  ) {
    if (current.length !== KEY_BYTES) throw new RecordingKeyError(`key "${currentId}" must be ${KEY_BYTES} bytes`);
    this.#keys = new Map([[currentId, current]]);
    for (const p of previous) {
      if (p.key.length !== KEY_BYTES) throw new RecordingKeyError(`key "${p.id}" must be ${KEY_BYTES} bytes`);
      if (!this.#keys.has(p.id)) this.#keys.set(p.id, p.key);
    }
  }

  get current(): Buffer {
    return this.#keys.get(this.currentId)!;
  }

  /** The key named in a file's header. */
  get(id: string): Buffer {
    const key = this.#keys.get(id);
    if (key === undefined) {
      throw new RecordingKeyError(`the recording is encrypted with key "${id}", which is not configured (recordings.encryption.previousKeys)`);
    }
    return key;
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  toJSON(): { currentId: string; ids: string[] } {
    return { currentId: this.currentId, ids: this.ids };
  }

  toString(): string {
    return `KeyRing(current=${this.currentId}, ids=${this.ids.join(',')})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export interface KeySource {
  readonly keyId: string;
  readonly key?: string;
  readonly keyFile?: string;
  readonly previousKeys: readonly { readonly id: string; readonly key: string }[];
}

/**
 * Builds the key ring from configuration. With no key and no key file, a key
 * is generated once at `generatedKeyFile` (mode 0600) and reused afterwards,
 * so the embedded default works out of the box.
 */
export async function loadKeyRing(source: KeySource, generatedKeyFile: string): Promise<{ ring: KeyRing; generated: boolean }> {
  let current: Buffer;
  let generated = false;
  if (source.key !== undefined) {
    current = decodeKey(source.key, 'recordings.encryption.key');
  } else {
    const file = source.keyFile ?? generatedKeyFile;
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || source.keyFile !== undefined) {
        throw new RecordingKeyError(`cannot read the recording key file ${file}: ${(e as Error).message}`, { cause: e });
      }
    }
    if (text === undefined) {
      current = randomBytes(KEY_BYTES);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, `${current.toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(async (e: unknown) => {
        // Another process generated it first: use theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        current = decodeKey(await readFile(file, 'utf8'), file);
      });
      await chmod(file, 0o600);
      generated = true;
    } else {
      current = decodeKey(text, file);
    }
  }
  const previous = source.previousKeys.map((p) => ({ id: p.id, key: decodeKey(p.key, `recordings.encryption.previousKeys (${p.id})`) }));
  return { ring: new KeyRing(source.keyId, current, previous), generated };
}
