/**
 * What every task of a call may use: the call's session, its INVITE, its
 * media, the caller's leg once answered, and the engine's services (config,
 * policy, prompts, recordings, outbound signaling).
 */
import type { SwitchboardConfig } from '../../config/load.js';
import type { MediaService, PromptLibrary } from '../../media/index.js';
import type { Policy } from '../../policy/index.js';
import type { RecordingCapture } from '../../recordings/service/recording-capture.js';
import type { AgentServices } from '../agents/agent-services.js';
import type { CallRecordWriter } from '../call-record.js';
import type { CallAnchor } from '../media/call-anchor.js';
import type { OutboundTrunks } from '../outbound-trunks.js';
import type { QueueDirectory } from '../queue-directory.js';
import type { CallSession } from '../session/call-session.js';
import type { PendingHangUps } from '../session/end-reasons.js';
import type { InboundInvite, SipLeg, SipPort } from '../signaling/sip-port.js';
import type { VoicemailNotices } from '../voicemail/voicemail-notices.js';

export interface EngineServices {
  readonly config: SwitchboardConfig;
  readonly sip: SipPort;
  readonly policy: Policy;
  readonly directory: QueueDirectory;
  /** Undefined: signaling only (SDP passed through, no audio features). */
  readonly media: MediaService | undefined;
  readonly prompts: PromptLibrary | undefined;
  /** Undefined: calls are not recorded (recordings disabled or no media plane). */
  readonly recordings: RecordingCapture | undefined;
  readonly records: CallRecordWriter;
  readonly trunks: OutboundTrunks;
  readonly notices: VoicemailNotices;
  /** Agents, their waiting queues and registrar; undefined when no agent is configured. */
  readonly agents: AgentServices | undefined;
  /** BYEs of legs released at a call's end, not yet answered (the engine's stop waits for them, bounded). */
  readonly hangUps: PendingHangUps;
  /** Whether a queue's static target is on a call of this engine now (its hunt rings idle targets first). */
  readonly targetBusy?: (target: string) => boolean;
  readonly now: () => number;
}

export interface CallContext {
  readonly session: CallSession;
  readonly invite: InboundInvite;
  readonly anchor: CallAnchor;
  readonly services: EngineServices;
  /** The SDP to offer the agent side (rtpengine's, or the caller's own without media); undefined for a delayed offer. */
  offerForAgent: string | undefined;
  /** The caller's leg, once we sent our 200. */
  callerLeg: SipLeg | undefined;
  /** The last SDP the caller sent us (its offer, or its answer in the ACK of a delayed offer). */
  callerSdp: string | undefined;
  /** The SDP we sent the caller in our 200 (answer, or offer for a delayed offer). */
  callerSentSdp: string | undefined;
  /** A 183 with rtpengine's SDP went to the caller: prompts reach it as early media. */
  earlyMedia: boolean;
  /**
   * How many offers (hold, resume) of the answered caller rtpengine answered on
   * the callee side's behalf: one made after a callee (agent, gateway) was
   * offered the call is re-offered to it at the bridge.
   */
  callerOffers: number;
}
