/**
 * The one interface every CRM sits behind. An adapter uploads one part and
 * either returns the CRM's confirmation or throws a CrmError saying what kind
 * of failure it was (retry later, rate-limited, too large, refused). Adapters
 * must honour the idempotency key: the same key sent twice attaches once.
 */
import type { Contact, Pause } from '../store/manifest.js';

export interface UploadMetadata {
  readonly callId: string;
  readonly kind: 'call' | 'voicemail';
  /** The call's metadata (call record, voicemail callback number and language), as the engine gave it. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly contact: Contact;
  readonly queue?: { readonly id: string; readonly name?: string };
  readonly agent?: { readonly id?: string; readonly name?: string; readonly uri?: string };
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly pauses: readonly Pause[];
  readonly format: 'wav' | 'mp3';
  readonly channels: 'stereo' | 'mono';
  /** Where this part starts in the recording, and how long it plays (ms). */
  readonly partOffsetMs: number;
  readonly partDurationMs: number;
}

export interface PartUpload {
  readonly recordingId: string;
  readonly ticketId?: string;
  /** 1-based, strictly increasing per recording. */
  readonly partNumber: number;
  /** Parts expected at the current size limit (may grow if the CRM asks for smaller parts). */
  readonly partsPlanned: number;
  /** Stable for the same bytes of the same recording: a retry after an unanswered attempt reuses it. */
  readonly idempotencyKey: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  /** A fresh stream of the part's bytes for each call. */
  readonly body: () => AsyncIterable<Buffer>;
  readonly metadata: UploadMetadata;
}

export interface PartReceipt {
  /** The CRM's id for the stored attachment (its confirmation). */
  readonly attachmentId: string;
  /** True when the CRM already had this idempotency key and stored nothing new. */
  readonly duplicate?: boolean;
}

export interface CrmAdapter {
  readonly name: string;
  upload(part: PartUpload, signal?: AbortSignal): Promise<PartReceipt>;
}
