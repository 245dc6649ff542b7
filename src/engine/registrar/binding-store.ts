/**
 * Where registrations survive a restart of the engine: a JSON file under the
 * state directory (written whole, to a temporary file then renamed, so a crash
 * leaves the old or the new table, never half of one), or Redis (one key per
 * agent holding its bindings, expiring with the last of them). Writes are
 * coalesced and never block a REGISTER: the answer goes out first, the table
 * is saved just after (a crash in between loses that one registration, which
 * the phone refreshes anyway).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.js';
import { redisOptionsFor } from '../../recordings/queue/redis-connection.js';
import type { Binding } from './binding-table.js';

export interface BindingStore {
  load(): Promise<Binding[]>;
  /** The bindings of `aor` are now `bindings` (empty: none). */
  save(aor: string, bindings: readonly Binding[]): void;
  /** Writes what is pending and releases the store. */
  close(): Promise<void>;
}

function isBinding(v: unknown): v is Binding {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return typeof b.aor === 'string' && typeof b.contact === 'string' && typeof b.expiresAt === 'number' && typeof b.callId === 'string' && typeof b.cseq === 'number' && typeof b.registeredAt === 'number' && typeof b.source === 'string' && (b.path === undefined || (Array.isArray(b.path) && b.path.every((r) => typeof r === 'string'))) && (b.reachAt === undefined || typeof b.reachAt === 'string') && (b.instance === undefined || typeof b.instance === 'string');
}

export class FileBindingStore implements BindingStore {
  private readonly table = new Map<string, readonly Binding[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private readonly delayMs = 50,
  ) {}

  async load(): Promise<Binding[]> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as { version?: number; bindings?: unknown[] };
      const list = (parsed.bindings ?? []).filter(isBinding);
      for (const b of list) this.table.set(b.aor, [...(this.table.get(b.aor) ?? []), b]);
      return list;
    } catch (e) {
      this.logger.warn({ file: this.file, err: (e as Error).message }, 'registrations file unreadable: starting without registrations');
      return [];
    }
  }

  save(aor: string, bindings: readonly Binding[]): void {
    if (bindings.length === 0) this.table.delete(aor);
    else this.table.set(aor, bindings);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ version: 1, bindings: [...this.table.values()].flat() })}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (e) {
      this.logger.error({ file: this.file, err: (e as Error).message }, 'registrations cannot be saved');
    }
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) this.flush();
  }
}

export class RedisBindingStore implements BindingStore {
  private readonly redis: Redis;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    // Unlike the upload queue, a registration write may fail (the phone refreshes): bounded retries, never a hang.
    const { url: u, options } = redisOptionsFor(url);
    const opts = { ...options, lazyConnect: true, maxRetriesPerRequest: 3, connectionName: 'switchboard-registrar' };
    this.redis = u !== undefined ? new Redis(u, opts) : new Redis(opts);
    this.redis.on('error', (e: Error) => this.logger.warn({ err: e.message }, 'registrar redis error'));
  }

  private key(aor: string): string {
    return `${this.prefix}:registrar:${aor}`;
  }

  async load(): Promise<Binding[]> {
    try {
      return await this.scan();
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'registrations cannot be read from redis: starting without them');
      return [];
    }
  }

  private async scan(): Promise<Binding[]> {
    await this.redis.connect();
    const out: Binding[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:registrar:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(...keys);
      for (const v of values) {
        if (v === null) continue;
        try {
          const list = JSON.parse(v) as unknown[];
          out.push(...list.filter(isBinding));
        } catch {
          // A value someone else wrote under our prefix: ignored.
        }
      }
    } while (cursor !== '0');
    return out;
  }

  save(aor: string, bindings: readonly Binding[]): void {
    const key = this.key(aor);
    const last = Math.max(0, ...bindings.map((b) => b.expiresAt));
    this.chain = this.chain
      .then(async (): Promise<void> => {
        if (bindings.length === 0) await this.redis.del(key);
        else await this.redis.set(key, JSON.stringify(bindings), 'PXAT', last);
      })
      .catch((e: unknown) => this.logger.error({ aor, err: (e as Error).message }, 'registrations cannot be saved to redis'));
  }

  async close(): Promise<void> {
    await this.chain;
    this.redis.disconnect();
  }
}
