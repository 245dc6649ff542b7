/**
 * The spool: one private directory per recording awaiting delivery.
 *
 *   <root>/recordings/<id>/manifest.json   call metadata, layout (no audio)
 *   <root>/recordings/<id>/progress.json   parts confirmed so far
 *   <root>/recordings/<id>/audio.enc       the converted recording, encrypted
 *   <root>/tombstones/<day>/<id>.json      final state once the files are gone, by the UTC day it
 *                                          was written (a day's directory goes as a whole)
 *   <root>/trash/                          directories being deleted
 *
 * Every JSON file is replaced atomically (write, fsync, rename, fsync the
 * directory) so a crash leaves either the old or the new version. Directories
 * are mode 0700 and files 0600: only the engine's user can even list them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RecordingFormatError, RecordingMissingError } from '../errors.js';
import { isRecordingId, type DeliveryProgress, type RecordingManifest, type Tombstone } from './manifest.js';

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeJsonAtomic(path: string, value: unknown, dir: string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(value, null, 1)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dir);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new RecordingFormatError(`${path}: unreadable (${(e as Error).message})`, { cause: e });
  }
}

/** A day's tombstone directory: its UTC date, `YYYY-MM-DD`. */
const DAY_DIR = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function checkId(id: string): string {
  if (!isRecordingId(id)) throw new RecordingFormatError(`"${id}" is not a valid recording id`);
  return id;
}

export class RecordingStore {
  readonly recordingsDir: string;
  readonly tombstonesDir: string;
  readonly trashDir: string;

  constructor(readonly root: string) {
    this.recordingsDir = join(root, 'recordings');
    this.tombstonesDir = join(root, 'tombstones');
    this.trashDir = join(root, 'trash');
  }

  async init(): Promise<void> {
    for (const d of [this.root, this.recordingsDir, this.tombstonesDir, this.trashDir]) await mkdir(d, { recursive: true, mode: 0o700 });
  }

  dir(id: string): string {
    return join(this.recordingsDir, checkId(id));
  }

  audioPath(id: string): string {
    return join(this.dir(id), 'audio.enc');
  }

  /** Stores a new recording's manifest. Idempotent: an existing manifest is kept and returned. */
  async create(manifest: RecordingManifest): Promise<RecordingManifest> {
    const dir = this.dir(manifest.recordingId);
    // mkdir says whether it made the directory: a new one holds no manifest, and its own entry in the
    // parent must be made durable too.
    const made = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (made === undefined) {
      const existing = await this.readManifest(manifest.recordingId);
      if (existing !== undefined) return existing;
    }
    await writeJsonAtomic(join(dir, 'manifest.json'), manifest, dir);
    if (made !== undefined) await syncDir(this.recordingsDir);
    return manifest;
  }

  async readManifest(id: string): Promise<RecordingManifest | undefined> {
    const m = await readJson<RecordingManifest>(join(this.dir(id), 'manifest.json'));
    if (m !== undefined && (m.version !== 1 || m.recordingId !== id)) {
      throw new RecordingFormatError(`${join(this.dir(id), 'manifest.json')}: not a version-1 manifest of ${id}`);
    }
    return m;
  }

  async requireManifest(id: string): Promise<RecordingManifest> {
    const m = await this.readManifest(id);
    if (m === undefined) throw new RecordingMissingError(`recording ${id} has no manifest in ${this.recordingsDir}`);
    return m;
  }

  async writeManifest(m: RecordingManifest): Promise<void> {
    const dir = this.dir(m.recordingId);
    await writeJsonAtomic(join(dir, 'manifest.json'), m, dir);
  }

  async readProgress(id: string): Promise<DeliveryProgress | undefined> {
    return readJson<DeliveryProgress>(join(this.dir(id), 'progress.json'));
  }

  async writeProgress(id: string, p: DeliveryProgress): Promise<void> {
    const dir = this.dir(id);
    await writeJsonAtomic(join(dir, 'progress.json'), p, dir);
  }

  /** Recording ids present in the spool. */
  async list(): Promise<string[]> {
    const names = await readdir(this.recordingsDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    return names.filter(isRecordingId);
  }

  /** When the recording's directory appeared (for directories without a readable manifest). */
  async createdAt(id: string): Promise<number | undefined> {
    try {
      const s = await stat(this.dir(id));
      return s.birthtimeMs > 0 ? Math.min(s.birthtimeMs, s.mtimeMs) : s.mtimeMs;
    } catch {
      return undefined;
    }
  }

  /**
   * Takes the recording's directory out of the spool in one atomic step, so
   * that of several processes deleting it (uploader, sweeper) exactly one wins.
   * Returns false when it was already gone.
   */
  async claim(id: string): Promise<string | false> {
    const target = join(this.trashDir, `${checkId(id)}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.dir(id), target);
      return target;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  /**
   * Takes over a claimed directory whose deletion was abandoned (its process died), in one atomic
   * step: of several sweepers finding it, exactly one gets it (the others get false).
   */
  async reclaim(claimed: string): Promise<string | false> {
    const name = basename(claimed);
    const id = name.replace(/-[0-9a-f]{8}$/, '');
    const target = join(this.trashDir, `${checkId(id)}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(claimed, target);
      return target;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  /** The manifest left in a claimed directory, if it is there and readable. */
  async claimedManifest(claimed: string): Promise<RecordingManifest | undefined> {
    return readJson<RecordingManifest>(join(claimed, 'manifest.json')).catch(() => undefined);
  }

  /** True while another process has claimed the recording and is deleting it. */
  async beingDeleted(id: string): Promise<boolean> {
    const names = await readdir(this.trashDir).catch(() => [] as string[]);
    return names.some((n) => n.startsWith(`${checkId(id)}-`) && n.length === id.length + 9);
  }

  async purge(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  /**
   * A tombstone goes under the UTC day of its `at` (the instant it was written if that does not parse),
   * so that the retention sweeper deletes a past day's tombstones as one directory instead of visiting
   * each of them on every sweep (a busy center writes hundreds of thousands a day).
   */
  async writeTombstone(t: Tombstone): Promise<void> {
    const at = Date.parse(t.at);
    const day = new Date(Number.isFinite(at) ? at : Date.now()).toISOString().slice(0, 10);
    const dir = join(this.tombstonesDir, day);
    const made = await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeJsonAtomic(join(dir, `${checkId(t.recordingId)}.json`), t, dir);
    if (made !== undefined) await syncDir(this.tombstonesDir);
  }

  /** The recording's latest tombstone (newest day first; a flat `<id>.json` of an older spool last). */
  async readTombstone(id: string): Promise<Tombstone | undefined> {
    const name = `${checkId(id)}.json`;
    for (const day of await this.tombstoneDays()) {
      const t = await readJson<Tombstone>(join(this.tombstonesDir, day, name));
      if (t !== undefined) return t;
    }
    return readJson<Tombstone>(join(this.tombstonesDir, name));
  }

  /** The days that have a tombstone directory, newest first. */
  async tombstoneDays(): Promise<string[]> {
    const names = await readdir(this.tombstonesDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    return names.filter((n) => DAY_DIR.test(n)).sort().reverse();
  }

  /** When the last tombstone of `day` (from tombstoneDays) was written at the latest: the end of that UTC day. */
  static tombstoneDayEnd(day: string): number {
    return Date.parse(`${day}T00:00:00Z`) + DAY_MS;
  }
}
