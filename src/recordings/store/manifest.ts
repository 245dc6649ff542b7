/**
 * What the pipeline knows about one recording, kept on disk next to it: the
 * call's metadata (no audio), where its capture is, its converted layout and
 * its delivery progress. The manifest is the durable truth; queue jobs carry
 * only the recording id, so a job can be re-run at any time and continue
 * from here.
 */
import type { PartySelector } from '../convert/pcap-to-pcm.js';
import type { ChannelLayout } from '../convert/timeline.js';
import type { AudioLayout } from '../parts/part-plan.js';

export interface PartyInfo {
  /** Telephone number or SIP user; absent or "anonymous" for a caller who withheld it. */
  readonly number?: string;
  readonly name?: string;
  readonly uri?: string;
  /** Agent id in the CRM / directory. */
  readonly id?: string;
  /** Set when the caller withheld their identity (Privacy: id, anonymous From). */
  readonly anonymous?: boolean;
}

export interface Pause {
  readonly pausedAt: string;
  readonly resumedAt?: string;
}

export interface Contact {
  readonly name: string;
  readonly phone?: string;
  readonly anonymous: boolean;
}

/** JSON-safe facts about the call that travel to the CRM with the recording (the call record, voicemail details). */
export type RecordingDetails = Readonly<Record<string, unknown>>;

export interface RecordingManifest {
  readonly version: 1;
  readonly recordingId: string;
  readonly callId: string;
  /** A call between caller and agent (default), or a voicemail the caller left. */
  readonly kind?: 'call' | 'voicemail';
  /** The call's metadata for the CRM record (the engine's call record; callback number and language of a voicemail). */
  readonly details?: RecordingDetails;
  readonly ticketId?: string;
  readonly queue?: { readonly id: string; readonly name?: string };
  readonly caller: PartyInfo;
  readonly agent: PartyInfo;
  readonly contact: Contact;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly pauses: readonly Pause[];
  /** No file of this recording may exist after this instant. */
  readonly expiresAt: string;
  readonly capture: {
    /** Number of start/stop segments rtpengine wrote. */
    readonly segments: number;
    /** Capture files, when known up front (otherwise found through rtpengine's metadata files). */
    readonly files?: readonly string[];
    /** The capture files the conversion read (written with state `converted`): deleted after it, and again at delivery. */
    readonly converted?: readonly { readonly pcap: string; readonly metadataFile?: string }[];
    readonly parties?: { readonly caller?: PartySelector; readonly agent?: PartySelector };
  };
  readonly state: 'captured' | 'converted';
  readonly audio?: {
    readonly format: 'wav' | 'mp3';
    readonly channels: ChannelLayout;
    readonly layout: AudioLayout;
    readonly durationMs: number;
    readonly keyId: string;
    /** Bytes of the audio file once decrypted. */
    readonly bytes: number;
    /** Conversion facts worth keeping (packets, losses), never samples. */
    readonly summary: Record<string, unknown>;
  };
}

export interface DeliveredPart {
  readonly number: number;
  readonly start: number;
  readonly end: number;
  readonly size: number;
  readonly idempotencyKey: string;
  readonly attachmentId: string;
  readonly confirmedAt: string;
}

export interface DeliveryProgress {
  /** The next part's number (1-based). */
  readonly nextPart: number;
  /** Where the next part starts, in the audio data. */
  readonly nextOffset: number;
  /** Current part size limit (shrinks when the CRM answers 413). */
  readonly partLimit: number;
  readonly parts: readonly DeliveredPart[];
  /** Failed attempts at the current part (drives the back-off). */
  readonly failures: number;
  readonly verified: boolean;
  readonly lastError?: string;
  readonly lastAttemptAt?: string;
}

export type FinalState = 'delivered' | 'expired' | 'failed';

/** What remains of a recording once it is gone: a few facts, no audio. */
export interface Tombstone {
  readonly recordingId: string;
  readonly callId: string;
  readonly state: FinalState;
  readonly at: string;
  readonly reason?: string;
  readonly parts?: number;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isRecordingId(id: string): boolean {
  return ID.test(id);
}

export function initialProgress(partLimit: number): DeliveryProgress {
  return { nextPart: 1, nextOffset: 0, partLimit, parts: [], failures: 0, verified: false };
}
