/**
 * The bytes of one part, decrypted on the fly from the sealed recording: a
 * WAV header sized for this part followed by its samples, or a run of whole
 * MP3 frames. Nothing is written to disk; each chunk is authenticated before it
 * is handed on, so a tampered file stops the upload instead of reaching the CRM.
 */
import type { SealedFile } from '../crypto/sealed-file.js';
import { wavHeader } from './wav.js';
import type { AudioLayout, PlannedPart } from './part-plan.js';

export async function* partBody(sealed: SealedFile, layout: AudioLayout, part: PlannedPart): AsyncGenerator<Buffer> {
  if (layout.format === 'wav') yield wavHeader(layout.pcm, part.end - part.start);
  yield* sealed.range(layout.dataOffset + part.start, layout.dataOffset + part.end);
}

export function partFileName(recordingId: string, format: AudioLayout['format'], partNumber: number): string {
  return `${recordingId}-part${String(partNumber).padStart(3, '0')}.${format}`;
}

export function contentType(format: AudioLayout['format']): string {
  return format === 'wav' ? 'audio/wav' : 'audio/mpeg';
}
