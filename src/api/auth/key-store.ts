/**
 * The keys the API accepts: those in the configuration (`api.keys`) and those
 * in the keys file. The file is re-read on `reload()` (SIGHUP) and whenever it
 * changes (a watch on its directory, since `switchboard keys` replaces it by
 * rename), so keys are added and revoked without a restart. A file that cannot
 * be read or is invalid leaves only the configuration's keys (fail closed: a
 * revoked key must not survive a botched edit), and the reason is logged.
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import { bearerToken, keyIdOf, keyMatches } from './api-key.js';
import { keyEntryProblems, readKeysFile, KeysFileError, type StoredKey } from './keys-file.js';
import { principalOf, type Principal, type RoleBook } from './roles.js';

export type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  /** keyId: the id a well-formed key claims (a revoked key still in use shows which one in the audit log). */
  | { readonly ok: false; readonly reason: string; readonly keyId?: string };

interface KnownKey {
  readonly entry: StoredKey;
  readonly source: 'config' | 'file';
}

export class KeyStore {
  private keys = new Map<string, KnownKey>();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly changeListeners = new Set<() => void>();
  /** Incremented on every reload (tests and logs). */
  generation = 0;

  constructor(
    private readonly options: {
      readonly configKeys: readonly StoredKey[];
      readonly file: string;
      readonly roles: RoleBook;
      readonly logger: Logger;
    },
  ) {
    const problems = keyEntryProblems(options.configKeys, options.roles, 'api.keys');
    if (problems.length > 0) throw new KeysFileError('configuration', problems);
  }

  /** Loads the file (throws KeysFileError on a bad file: start-up refuses it) and starts watching it. */
  start(): void {
    this.install(readKeysFile(this.options.file, this.options.roles));
    const dir = dirname(this.options.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = basename(this.options.file);
    this.watcher = watch(dir, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload('file changed'), 50);
    });
    this.watcher.on('error', (e) => this.options.logger.warn({ err: e.message, file: this.options.file }, 'cannot watch the API keys file; reload with SIGHUP'));
  }

  /** Re-reads the keys file now. */
  reload(why = 'reload'): void {
    try {
      this.install(readKeysFile(this.options.file, this.options.roles));
      this.options.logger.info({ file: this.options.file, keys: this.keys.size, why }, 'API keys loaded');
    } catch (e) {
      this.install([]);
      this.options.logger.error({ file: this.options.file, err: e instanceof Error ? e.message : String(e), keys: this.keys.size }, 'API keys file invalid: only the configuration keys are accepted until it is fixed');
    }
  }

  private install(fileKeys: readonly StoredKey[]): void {
    const next = new Map<string, KnownKey>();
    for (const entry of this.options.configKeys) next.set(entry.id, { entry, source: 'config' });
    for (const entry of fileKeys) if (!next.has(entry.id)) next.set(entry.id, { entry, source: 'file' });
    this.keys = next;
    this.generation++;
    for (const l of this.changeListeners) l();
  }

  /**
   * Calls `listener` after every reload (a key added, revoked or changed):
   * for what a key allowed earlier and still runs (a monitor). Returns the
   * unsubscribe.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Who an `Authorization` header stands for, or why it stands for nobody. */
  authenticate(header: string | undefined): Authentication {
    const bearer = bearerToken(header);
    if ('problem' in bearer) return { ok: false, reason: bearer.problem };
    const id = keyIdOf(bearer.token);
    const known = id === undefined ? undefined : this.keys.get(id);
    if (known === undefined || !keyMatches(bearer.token, known.entry.hash)) return { ok: false, reason: 'unknown or revoked API key', ...(id !== undefined ? { keyId: id } : {}) };
    const role = this.options.roles.get(known.entry.role);
    if (role === undefined) return { ok: false, reason: `the key's role "${known.entry.role}" no longer exists`, keyId: known.entry.id };
    return { ok: true, principal: principalOf(role, known.entry) };
  }

  /**
   * Key `id`'s principal as it stands now (undefined once it is revoked or its
   * role is gone): for checking again, later, what a request was allowed.
   */
  current(id: string): Principal | undefined {
    const known = this.keys.get(id);
    const role = known === undefined ? undefined : this.options.roles.get(known.entry.role);
    return known === undefined || role === undefined ? undefined : principalOf(role, known.entry);
  }

  stop(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
