/**
 * The audit log: every monitor start and stop, every call ended, every
 * recording pause and resume, every change of a call's reserved data, every
 * agent state changed through the API, and every denied attempt (no key, a
 * bad or revoked key, a missing permission, a call of another team), with
 * who, when, what and from where (unauthenticated denials beyond a rate are
 * counted, not written one by one: denial-throttle.ts). One JSON line per entry appended to a file under the
 * state directory and the same entry in the logs.
 *
 * Written synchronously before the API answers, so an entry the caller saw
 * acknowledged is in the file whatever happens to the process next; actions
 * (not denials, which anyone can cause in bulk) are also flushed to the disk
 * (fdatasync), so they survive a machine crash too. The file is only appended
 * to; rotating it is the operator's (logrotate with copytruncate works).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { JsonLinesFile } from '../../observability/json-lines-file.js';
import type { Logger } from '../../observability/logger.js';

export const AUDIT_ACTIONS = ['monitor.start', 'monitor.stop', 'monitor.ticket', 'call.end', 'recording.pause', 'recording.resume', 'reserved-data.set', 'agent.state', 'request'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  readonly at: string;
  readonly action: AuditAction;
  /** ok: done; failed: allowed but it did not work (device busy...); denied: not allowed. */
  readonly outcome: 'ok' | 'failed' | 'denied';
  /** The API user; `system` for what the engine did by itself (a device hung up, the call ended, a stuck call ended). */
  readonly user: string | null;
  readonly role: string | null;
  readonly keyId: string | null;
  /** Where the request came from (none for the engine's own actions). */
  readonly from: { readonly address: string; readonly userAgent: string | null } | null;
  readonly request: { readonly method: string; readonly path: string } | null;
  readonly call: string | null;
  readonly monitor: string | null;
  readonly device: string | null;
  /** The agent whose state was changed (agent.state). */
  readonly agent: string | null;
  readonly reason: string | null;
  /** The HTTP status answered (none for the engine's own actions). */
  readonly status: number | null;
  readonly code: string | null;
}

export type AuditInput = Partial<Omit<AuditEntry, 'at' | 'action' | 'outcome'>> & Pick<AuditEntry, 'action' | 'outcome'>;

/** Largest tail read back by `recent()`. */
const TAIL_BYTES = 4 * 1024 * 1024;

export class AuditLog {
  private readonly out: JsonLinesFile;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    // An entry a fault kept from the file (a full disk) is written once it can be; a torn line is ended first.
    this.out = new JsonLinesFile(file, logger, { what: 'audit log', mode: 0o600 });
  }

  /** Entries in the file. */
  get written(): number {
    return this.out.written;
  }

  /** The file was rotated (SIGHUP): the next entry starts a new one at the path. */
  reopen(): void {
    this.out.reopen();
  }

  close(): void {
    this.out.close();
  }

  record(input: AuditInput): AuditEntry {
    const entry: AuditEntry = {
      at: new Date(this.now()).toISOString(),
      action: input.action,
      outcome: input.outcome,
      user: input.user ?? null,
      role: input.role ?? null,
      keyId: input.keyId ?? null,
      from: input.from ?? null,
      request: input.request ?? null,
      call: input.call ?? null,
      monitor: input.monitor ?? null,
      device: input.device ?? null,
      agent: input.agent ?? null,
      reason: input.reason ?? null,
      status: input.status ?? null,
      code: input.code ?? null,
    };
    // On disk before the action is answered, except denials (a flood of them must not cost a sync each).
    this.out.append(JSON.stringify(entry), entry.outcome !== 'denied');
    this.logger.info({ audit: entry }, 'audit');
    return entry;
  }

  /** The last `limit` entries (newest last), read back from the file. */
  recent(limit: number, filter: (e: AuditEntry) => boolean = () => true): AuditEntry[] {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, TAIL_BYTES);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      const lines = buf.toString('utf8').split('\n');
      if (length < size) lines.shift();
      const out: AuditEntry[] = [];
      for (const line of lines) {
        if (line === '') continue;
        try {
          const e = JSON.parse(line) as AuditEntry;
          // Entries written before agents existed have no agent field; some earlier ones lost the
          // address of a client that dropped its connection midway.
          const from = e.from === null || e.from === undefined ? null : { address: typeof e.from.address === 'string' ? e.from.address : 'unknown', userAgent: typeof e.from.userAgent === 'string' ? e.from.userAgent : null };
          if (filter(e)) out.push({ ...e, agent: e.agent ?? null, from });
        } catch {
          // a torn last line of a crashed writer: skip it
        }
      }
      return out.slice(-limit);
    } finally {
      closeSync(fd);
    }
  }
}
