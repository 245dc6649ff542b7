/**
 * The engine's small internal API on live calls: list them, look at one, end
 * one, pause and resume its recording. The HTTP API (src/api/) and the status
 * endpoint use it; commands reach a call through its session, never by
 * reaching into its legs.
 */
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { CallRegistry } from './session/call-registry.js';
import type { CallSession, CallState, EndedBy } from './session/call-session.js';
import type { CallMetrics } from './session/call-timeline.js';

export interface CallView {
  readonly id: string;
  readonly sipCallId: string;
  readonly state: CallState;
  readonly caller: { readonly number: string | null; readonly name: string | null; readonly withheld: boolean };
  readonly dialed: string;
  readonly queue: string | null;
  readonly queuePath: readonly string[];
  readonly agent: string | null;
  readonly arrivedAt: string;
  readonly bridgedAt: string | null;
  readonly metrics: CallMetrics;
  readonly recording: { readonly id: string; readonly state: string } | null;
  readonly deflection: { readonly action: string; readonly target: string | null } | null;
}

export class CallControlError extends SwitchboardError {
  constructor(
    readonly kind: 'not-found' | 'conflict',
    message: string,
  ) {
    super(kind === 'not-found' ? ErrorCodes.NOT_FOUND : ErrorCodes.CONFLICT, message);
  }
}

export function viewOf(s: CallSession): CallView {
  const m = s.timeline.marks;
  return {
    id: s.id,
    sipCallId: s.callId,
    state: s.state,
    caller: { number: s.caller.number ?? null, name: s.caller.name ?? null, withheld: s.caller.withheld },
    dialed: s.dialed,
    queue: s.queue ?? null,
    queuePath: [...s.queuePath],
    agent: s.agent ?? null,
    arrivedAt: new Date(m.arrivedAt).toISOString(),
    bridgedAt: m.bridgedAt !== undefined ? new Date(m.bridgedAt).toISOString() : null,
    metrics: s.metrics(),
    recording: s.recording !== undefined ? { id: s.recording.recordingId, state: s.recording.state } : null,
    deflection: s.deflection ?? null,
  };
}

export class CallControl {
  constructor(private readonly calls: CallRegistry) {}

  list(): CallView[] {
    return this.calls.all().map(viewOf);
  }

  private session(id: string): CallSession {
    const s = this.calls.get(id);
    if (s === undefined || s.ended) throw new CallControlError('not-found', `no live call ${id}`);
    return s;
  }

  get(id: string): CallView {
    return viewOf(this.session(id));
  }

  /** Ends a live call: every leg gets its BYE (or the caller a final response), the recording is finished. */
  async end(id: string, reason: string, by: EndedBy = 'engine'): Promise<void> {
    await this.session(id).end(reason, by);
  }

  async pauseRecording(id: string): Promise<void> {
    const rec = this.session(id).recording;
    if (rec === undefined) throw new CallControlError('conflict', `call ${id} is not being recorded`);
    if (rec.state !== 'recording') throw new CallControlError('conflict', `the recording of call ${id} is ${rec.state}`);
    await rec.pause();
  }

  async resumeRecording(id: string): Promise<void> {
    const rec = this.session(id).recording;
    if (rec === undefined) throw new CallControlError('conflict', `call ${id} is not being recorded`);
    if (rec.state !== 'paused') throw new CallControlError('conflict', `the recording of call ${id} is ${rec.state}`);
    await rec.resume();
  }
}
