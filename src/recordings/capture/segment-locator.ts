/**
 * Finding the pcap files rtpengine wrote for a recording. Each start/stop
 * segment gets `<recording-dir>/pcaps/<call-id>-<hex>.pcap`, and when the
 * segment stops, a text file in `<recording-dir>/metadata/` whose first line is
 * the pcap's path and whose last line is the metadata string we passed to
 * `start recording` — `switchboard-recording=<id>;segment=<n>` — which is how
 * segments are matched to recordings without guessing from file names.
 * rtpengine may run on another host with the directory shared: only the file
 * name of the recorded path is used, under our view of the directory.
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';

export function segmentMarker(recordingId: string, segment: number): string {
  return `switchboard-recording=${recordingId};segment=${segment}`;
}

const MARKER = /switchboard-recording=([A-Za-z0-9_.-]+);segment=(\d+)/;

export interface CapturedSegment {
  readonly index: number;
  readonly pcap: string;
  readonly metadataFile?: string;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Segments of `recordingId` found in rtpengine's recording directory, by segment number. */
export async function locateSegments(captureDir: string, recordingId: string, callId: string): Promise<CapturedSegment[]> {
  const metaDir = join(captureDir, 'metadata');
  const pcapDir = join(captureDir, 'pcaps');
  const found = new Map<number, CapturedSegment>();
  for (const name of await listDir(metaDir)) {
    const file = join(metaDir, name);
    const text = await readFile(file, 'utf8').catch(() => '');
    const m = MARKER.exec(text);
    if (m === null || m[1] !== recordingId) continue;
    const recorded = text.split('\n')[0]?.trim() ?? '';
    if (recorded === '') continue;
    found.set(Number(m[2]), { index: Number(m[2]), pcap: join(pcapDir, basename(recorded)), metadataFile: file });
  }
  if (found.size === 0) {
    // No metadata (rtpengine stopped before writing it): fall back to the call's pcap files by name.
    let i = 1;
    for (const name of (await listDir(pcapDir)).sort()) {
      const m = /^(.*)-[0-9a-f]{16}\.pcap$/.exec(name);
      if (m === null) continue;
      let decoded: string;
      try {
        decoded = decodeURIComponent(m[1]!);
      } catch {
        continue;
      }
      if (decoded === callId) found.set(i, { index: i++, pcap: join(pcapDir, name) });
    }
  }
  return [...found.values()].sort((a, b) => a.index - b.index);
}

/** Deletes a recording's capture files (after conversion, or at expiry). */
export async function deleteSegments(segments: readonly { readonly pcap: string; readonly metadataFile?: string }[]): Promise<void> {
  for (const s of segments) {
    for (const f of [s.pcap, s.metadataFile]) {
      if (f !== undefined) await unlink(f).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    }
  }
}
