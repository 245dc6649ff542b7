/**
 * The recordings under way, each as the manifest it would have if its call
 * ended now, kept in a directory of the engine's state while the call is
 * recorded (written at the start, after each pause and resume; removed once
 * the recording is handed to the spool). An engine killed during recorded
 * calls (SIGKILL, a crash, a power cut of the process) leaves its entries
 * behind; at the next start each becomes a recording again (`recover`):
 * ended when its capture files were last written, its metadata as it was,
 * marked recovered, and handed over like any other. Without this, rtpengine's
 * plaintext capture of such a call would lie unclaimed until the retention
 * sweeper deleted it at 7 days, the call never delivered nor reported.
 *
 * The entries guard against the process dying, not the machine: written and
 * renamed, not synced (a sync per recorded call would cost every call a disk
 * flush). Writes never fail a call: a journal that cannot be written is logged.
 */
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import type { RecordingManifest } from '../store/manifest.js';
import { locateSegments } from './segment-locator.js';

/** What a CallRecording tells the journal. */
export interface RecordingJournal {
  save(manifest: RecordingManifest): Promise<void>;
  remove(recordingId: string): Promise<void>;
}

const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

export class LiveRecordingJournal implements RecordingJournal {
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  private file(recordingId: string): string {
    return join(this.dir, `${recordingId}.json`);
  }

  async save(manifest: RecordingManifest): Promise<void> {
    if (!SAFE_ID.test(manifest.recordingId)) return;
    const file = this.file(manifest.recordingId);
    const tmp = `${file}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, `${JSON.stringify(manifest)}\n`, { mode: 0o600 });
      await rename(tmp, file);
    } catch (e) {
      this.logger.warn({ recordingId: manifest.recordingId, err: (e as Error).message }, 'recording journal not written: if the engine is killed during this call, its recording is not recovered');
    }
  }

  async remove(recordingId: string): Promise<void> {
    if (!SAFE_ID.test(recordingId)) return;
    await unlink(this.file(recordingId)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') this.logger.warn({ recordingId, err: e.message }, 'recording journal entry not removed');
    });
  }

  /** The entries a previous run left, with when each was last written (an unreadable one is logged and removed). */
  async leftOver(): Promise<{ readonly manifest: RecordingManifest; readonly savedAt: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: { manifest: RecordingManifest; savedAt: number }[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = join(this.dir, name);
      try {
        const m = JSON.parse(await readFile(file, 'utf8')) as RecordingManifest;
        if (typeof m.recordingId !== 'string' || typeof m.callId !== 'string' || typeof m.startedAt !== 'string') throw new Error('not a recording manifest');
        out.push({ manifest: m, savedAt: (await stat(file)).mtimeMs });
      } catch (e) {
        this.logger.warn({ file, err: (e as Error).message }, 'unreadable recording journal entry removed');
        await unlink(file).catch(() => undefined);
      }
    }
    return out;
  }
}

/**
 * A recording its engine never finished, as a manifest to hand over: it ended
 * when its capture files were last written (the call's media, as rtpengine saw
 * it), or when the journal last heard of it if no capture is found (the
 * conversion then reports the missing capture as any other); its segments are
 * those found.
 */
export async function recoveredManifest(entry: RecordingManifest, captureDir: string, journaledAt: number): Promise<RecordingManifest> {
  let endedAt = journaledAt;
  const segments = await locateSegments(captureDir, entry.recordingId, entry.callId).catch(() => []);
  for (const s of segments) {
    const t = await stat(s.pcap).then(
      (st) => st.mtimeMs,
      () => undefined,
    );
    if (t !== undefined) endedAt = Math.max(endedAt, t);
  }
  endedAt = Math.max(endedAt, Date.parse(entry.startedAt));
  return {
    ...entry,
    // The segments a dead rtpengine left are all there will be: the conversion is not to wait for more.
    ...(segments.length > 0 ? { capture: { ...entry.capture, segments: segments.length } } : {}),
    endedAt: new Date(endedAt).toISOString(),
    details: { ...(entry.details ?? {}), recovered: 'the engine stopped during the call; recovered from its capture at the next start' },
    state: 'captured',
  };
}
