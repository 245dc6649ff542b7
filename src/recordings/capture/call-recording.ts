/**
 * Capture of one call's recording through rtpengine's pcap method, with the
 * bookkeeping the rest of the pipeline needs: who the parties are, the queue,
 * when it started and ended, and every pause.
 *
 * rtpengine 10.5 has no "pause recording": a pause is `stop recording` and a
 * resume is `start recording`, each segment a new pcap file tagged with our
 * metadata string so it can be found again. Redaction depends on the stop
 * reaching rtpengine, so a failed pause is reported to the caller, never
 * swallowed. Prompts played by rtpengine (the whisper) are not in its pcap
 * recording: they never enter the recording.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { PartySelector } from '../convert/pcap-to-pcm.js';
import { contactFor } from '../crm/contact.js';
import type { PartyInfo, Pause, RecordingDetails, RecordingManifest } from '../store/manifest.js';
import type { RecordingJournal } from './live-journal.js';
import { segmentMarker } from './segment-locator.js';

/** What the recordings module needs from the media plane (implemented over rtpengine's ng protocol there). */
export interface RecordingControl {
  /** `start recording` for the call, with a metadata string rtpengine writes into its metadata file. */
  start(callId: string, metadata: string): Promise<void>;
  /** `stop recording` for the call. */
  stop(callId: string): Promise<void>;
}

/** Receives a finished recording (stores it and queues its conversion). */
export interface RecordingSink {
  submit(manifest: RecordingManifest): Promise<void>;
}

export interface CallRecordingInfo {
  readonly callId: string;
  readonly kind?: 'call' | 'voicemail';
  readonly recordingId?: string;
  readonly ticketId?: string;
  readonly queue?: { readonly id: string; readonly name?: string };
  readonly caller: PartyInfo;
  readonly agent: PartyInfo;
  /**
   * When the call began (its arrival; epoch ms): a withheld caller's contact is named after it, as the
   * call record names it, and the retention limit counts from it. The recording's start when absent.
   */
  readonly callStartedAt?: number;
  /** rtpengine's local ports receiving each party's RTP (from the SDPs), to tell the flows apart. */
  readonly media?: { readonly caller?: PartySelector; readonly agent?: PartySelector };
}

export interface CallRecordingDeps {
  readonly control: RecordingControl;
  readonly sink: RecordingSink;
  readonly retentionMs: number;
  readonly contact: { readonly channel: string; readonly timeZone: string };
  readonly clock?: () => number;
  /** Keeps the recording's manifest so far while it is under way, for a restart after the engine was killed (live-journal.ts). */
  readonly journal?: RecordingJournal;
}

export type CaptureState = 'idle' | 'recording' | 'paused' | 'finished';

export class CaptureStateError extends SwitchboardError {
  constructor(message: string) {
    super(ErrorCodes.RECORDING_STATE, message);
  }
}

export class CallRecording {
  readonly recordingId: string;
  private stateValue: CaptureState = 'idle';
  private segments = 0;
  private startedAt: number | undefined;
  private readonly pauses: { pausedAt: number; resumedAt?: number }[] = [];
  private finishing: Promise<RecordingManifest | undefined> | undefined;
  private changing: 'pausing' | 'resuming' | undefined;
  private readonly clock: () => number;
  /** Journal writes in order: the removal at the hand-over comes after any save still on its way. */
  private journalChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly info: CallRecordingInfo,
    private readonly deps: CallRecordingDeps,
  ) {
    this.recordingId = info.recordingId ?? `rec-${randomUUID()}`;
    this.clock = deps.clock ?? Date.now;
  }

  get state(): CaptureState {
    return this.stateValue;
  }

  /** A pause or resume sent to rtpengine and not confirmed yet: another is refused until it is. */
  get pending(): 'pausing' | 'resuming' | undefined {
    return this.changing;
  }

  get segmentCount(): number {
    return this.segments;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'idle') throw new CaptureStateError(`recording ${this.recordingId} already ${this.stateValue}`);
    await this.deps.control.start(this.info.callId, segmentMarker(this.recordingId, this.segments + 1));
    this.segments++;
    this.startedAt = this.clock();
    this.stateValue = 'recording';
    await this.journal();
  }

  /** The manifest so far, for the journal (not once finished: the hand-over removes it). */
  private journal(): Promise<void> {
    const journal = this.deps.journal;
    if (journal === undefined) return Promise.resolve();
    return this.journalStep(async () => {
      if (this.stateValue === 'finished' || this.startedAt === undefined) return;
      await journal.save(this.manifest(this.startedAt, this.clock(), undefined));
    });
  }

  private journalStep(op: () => Promise<void>): Promise<void> {
    const next = this.journalChain.then(op, op);
    this.journalChain = next.catch(() => undefined);
    return next;
  }

  /** Stops capturing (redaction) until resume(). Throws if rtpengine did not confirm the stop. */
  async pause(): Promise<void> {
    if (this.changing !== undefined || this.stateValue !== 'recording') throw new CaptureStateError(`cannot pause recording ${this.recordingId}: it is ${this.changing ?? this.stateValue}`);
    this.changing = 'pausing';
    try {
      await this.deps.control.stop(this.info.callId);
      this.pauses.push({ pausedAt: this.clock() });
      if (this.stateValue === 'recording') this.stateValue = 'paused';
    } finally {
      this.changing = undefined;
    }
    await this.journal();
  }

  async resume(): Promise<void> {
    if (this.changing !== undefined || this.stateValue !== 'paused') throw new CaptureStateError(`cannot resume recording ${this.recordingId}: it is ${this.changing ?? this.stateValue}`);
    this.changing = 'resuming';
    try {
      await this.deps.control.start(this.info.callId, segmentMarker(this.recordingId, this.segments + 1));
      this.segments++;
      const last = this.pauses[this.pauses.length - 1];
      if (last !== undefined) last.resumedAt = this.clock();
      if (this.stateValue === 'paused') this.stateValue = 'recording';
    } finally {
      this.changing = undefined;
    }
    await this.journal();
  }

  /**
   * Ends the capture and hands the recording to the pipeline. Idempotent.
   * Resolves with its manifest, or undefined when recording never started.
   */
  finish(details?: RecordingDetails): Promise<RecordingManifest | undefined> {
    this.finishing ??= this.doFinish(details);
    return this.finishing;
  }

  private async doFinish(details: RecordingDetails | undefined): Promise<RecordingManifest | undefined> {
    const wasRecording = this.stateValue === 'recording';
    const startedAt = this.startedAt;
    this.stateValue = 'finished';
    if (startedAt === undefined) return undefined;
    if (wasRecording) {
      // The call may already be gone from rtpengine (deleted at hang-up); its pcap is complete then.
      await this.deps.control.stop(this.info.callId).catch(() => undefined);
    }
    const manifest = this.manifest(startedAt, this.clock(), details);
    await this.deps.sink.submit(manifest);
    const journal = this.deps.journal;
    if (journal !== undefined) await this.journalStep(() => journal.remove(this.recordingId));
    return manifest;
  }

  private manifest(startedAt: number, endedAt: number, details: RecordingDetails | undefined): RecordingManifest {
    const pauses: Pause[] = this.pauses.map((p) => ({
      pausedAt: new Date(p.pausedAt).toISOString(),
      ...(p.resumedAt !== undefined ? { resumedAt: new Date(p.resumedAt).toISOString() } : {}),
    }));
    return {
      version: 1,
      recordingId: this.recordingId,
      callId: this.info.callId,
      ...(this.info.kind !== undefined ? { kind: this.info.kind } : {}),
      ...(details !== undefined ? { details } : {}),
      ...(this.info.ticketId !== undefined ? { ticketId: this.info.ticketId } : {}),
      ...(this.info.queue !== undefined ? { queue: this.info.queue } : {}),
      caller: this.info.caller,
      agent: this.info.agent,
      contact: contactFor(this.info.caller, new Date(this.info.callStartedAt ?? startedAt), this.deps.contact),
      startedAt: new Date(startedAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      pauses,
      expiresAt: new Date((this.info.callStartedAt ?? startedAt) + this.deps.retentionMs).toISOString(),
      capture: { segments: this.segments, ...(this.info.media !== undefined ? { parties: this.info.media } : {}) },
      state: 'captured',
    };
  }
}
