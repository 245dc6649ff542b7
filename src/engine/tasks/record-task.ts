/**
 * Recording a live call: started at the bridge, just before the parties hear
 * each other (so the whisper, which rtpengine never records anyway, and the
 * time before it are not in it, and their first words are),
 * paused and resumed on request (redaction: the agent's DTMF code, or the
 * engine's API), finished at hang-up with the call record as its CRM metadata
 * (reserved data and trunk included; data parameters sent on, when
 * redirection.sip.data_records.in_crm_record).
 * Finishing writes the manifest to the spool and queues its conversion; it
 * never waits on Redis (src/recordings/service/recording-capture.ts).
 */
import type { CallRecording } from '../../recordings/capture/call-recording.js';
import type { PartyInfo } from '../../recordings/store/manifest.js';
import { callRecordOf } from '../call-record.js';
import type { CallContext } from '../flows/call-context.js';
import { AGENT, CALLER } from '../media/call-anchor.js';
import type { Queue } from '../queue-directory.js';
import type { RecordingHandle } from '../session/call-session.js';
import type { Task } from './task.js';

export function firstAudioPort(sdp: string | undefined): number | undefined {
  const m = sdp === undefined ? null : /^m=audio (\d+)/m.exec(sdp);
  return m === null ? undefined : Number(m[1]);
}

/** Whether a queue's connected calls are recorded: its own setting, else the global one. */
export function recordsCalls(queue: Queue, ctx: CallContext): boolean {
  return queue.recording?.enabled ?? ctx.services.config.recordings.enabled;
}

export interface RecordOptions {
  readonly queue: { readonly id: string; readonly name: string };
  /** SDP we sent the caller / the agent: rtpengine's ports that receive each party's RTP. */
  readonly callerSdp: string | undefined;
  readonly agentSdp: string | undefined;
  readonly kind?: 'call' | 'voicemail';
  /** Facts for a voicemail (callback number, language...), delivered beside the call record. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The agent as the CRM gets it: a configured agent by id and name (and its device, a static one), a queue's static agent by its URI. */
export function agentParty(services: CallContext['services'], agent: string | undefined): PartyInfo {
  if (agent === undefined) return {};
  const known = services.agents?.agents.has(agent) === true ? services.agents.agents.get(agent) : undefined;
  if (known === undefined) return { uri: agent };
  return { id: known.id, name: known.name, ...(known.device !== 'registered' ? { uri: known.device } : {}) };
}

export class RecordTask implements Task<RecordingHandle | undefined> {
  readonly name = 'record';

  constructor(private readonly options: RecordOptions) {}

  async run(ctx: CallContext): Promise<RecordingHandle | undefined> {
    const { services, session, anchor } = ctx;
    const capture = services.recordings;
    if (capture === undefined || !anchor.anchored) return undefined;
    const o = this.options;
    const callerPort = firstAudioPort(o.callerSdp);
    const agentPort = firstAudioPort(o.agentSdp);
    const recording: CallRecording = capture.begin({
      callId: session.id,
      ...(session.crmTicket !== undefined ? { ticketId: session.crmTicket } : {}),
      kind: o.kind ?? 'call',
      queue: o.queue,
      caller: { ...(session.caller.number !== undefined ? { number: session.caller.number } : {}), ...(session.caller.name !== undefined ? { name: session.caller.name } : {}), anonymous: session.caller.withheld },
      agent: agentParty(services, session.agent),
      callStartedAt: session.timeline.marks.arrivedAt,
      media: { ...(callerPort !== undefined ? { caller: { localPort: callerPort } } : {}), ...(agentPort !== undefined ? { agent: { localPort: agentPort } } : {}) },
    });
    session.own('recording', async () => {
      const c = services.config.crm;
      const crmParams = session.dataParameters?.inCrmRecord;
      // A voicemail's own facts (callback number, language...) come with the call's record, not instead of
      // it: the CRM is the only place a voicemail's call reaches, reserved data (a bad actor) included.
      const details = { ...o.details, callRecord: callRecordOf(session, { channel: c.channelName, timeZone: c.timeZone }), ...(crmParams !== undefined ? { dataParameters: crmParams } : {}) };
      // The call's media goes first (idempotent; the session would release it last): deleting the call
      // at rtpengine completes its pcap, which saves a `stop recording` per call.
      await anchor.release();
      const manifest = await recording.finish(details);
      if (manifest !== undefined) session.log.info({ recordingId: manifest.recordingId, pauses: manifest.pauses.length }, 'recording handed to the pipeline');
    });
    await recording.start();
    session.log.info({ recordingId: recording.recordingId, labels: [CALLER, AGENT] }, 'recording started');
    const handle: RecordingHandle = {
      recordingId: recording.recordingId,
      get state() {
        return recording.state;
      },
      get pending() {
        return recording.pending;
      },
      // Whoever asks (the API, the agent's keys), the call's details show it: `changed`.
      pause: async () => {
        await recording.pause();
        session.changed();
      },
      resume: async () => {
        await recording.resume();
        session.changed();
      },
    };
    session.recording = handle;
    // Named once its handle is the session's: the `changed` it sends shows the recording.
    session.addRecording(recording.recordingId);
    return handle;
  }
}
