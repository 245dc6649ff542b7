/**
 * Hunting a queue's agents one after another: each agent leg rings for at most
 * the ring timeout; busy, no answer, decline or failure moves on to the next;
 * the first answer is bridged to the caller; the caller's CANCEL cancels the
 * ringing agent leg and stops the hunt; no agent left → 480.
 *
 * A caller's INVITE without SDP (delayed offer, RFC 3261 §13.2.1, RFC 3264):
 * the agent leg goes out without SDP too, the agent's offer in its 200 is
 * relayed in our 200 to the caller, and the caller's answer, which arrives in
 * its ACK, is relayed in our ACK to the agent.
 */
import type { CallSession } from '../call-session.js';
import { isUnackedUac, sipStatusOf, type Srf, type SrfDialog, type SrfRequest, type SrfResponse, type UnackedUac } from '../srf.js';
import { reject } from '../sip-errors.js';
import { bridge, hangUp, holdRequests, isConnected } from './bridge-task.js';

export interface DialAgentsOptions {
  readonly agents: readonly string[];
  readonly ringTimeoutMs: number;
  /** Headers for the agent leg (caller identity, call id for correlation). */
  readonly headers: Readonly<Record<string, string>>;
}

export type DialOutcome = 'connected' | 'cancelled' | 'no-agent';

type AgentAttempt =
  | { kind: 'answered'; dialog: SrfDialog }
  /** The agent answered a delayed offer with its own offer: it waits for our ACK with the caller's answer. */
  | { kind: 'offered'; leg: UnackedUac }
  | { kind: 'failed'; status: number };

/** The caller's number and name for the agent leg, unless withheld (RFC 3323 anonymous). */
function callerIdentity(req: SrfRequest): { callingNumber?: string; callingName?: string } {
  const r = req as unknown as { callingNumber?: string; callingName?: string };
  const number = r.callingNumber;
  if (number === undefined || number === '' || /^anonymous$/i.test(number)) return {};
  const name = r.callingName;
  return { callingNumber: number, ...(name !== undefined && name !== '' ? { callingName: name } : {}) };
}

/**
 * RFC 3262 across the B2BUA, the one place the engine deals with it: when
 * the caller offered 100rel, the agent leg offers it too (drachtio-srf PRACKs
 * an agent's reliable 1xx by itself), and an agent's reliable 18x goes on to
 * the caller with `Require: 100rel` (the SIP server adds RSeq, re-sends it
 * until the caller's PRACK, and holds our 200 until then). Early media (SDP
 * in the 183) goes with it either way.
 */
export function reliableRelay(req: SrfRequest): { agentHeaders: Record<string, string>; provisional(p: SrfResponse): { headers?: Record<string, string>; body?: string } } {
  const offered = /(^|[\s,])100rel($|[\s,])/i.test(`${req.get('Supported') ?? ''},${req.get('Require') ?? ''}`);
  return {
    agentHeaders: offered ? { Supported: '100rel' } : {},
    provisional: (p) => ({
      ...(p.status === 183 && p.body ? { body: p.body } : {}),
      ...(offered && p.has('RSeq') ? { headers: { Require: '100rel' } } : {}),
    }),
  };
}

export class DialAgentsTask {
  private cancelled = false;
  private ringing: SrfRequest | undefined;

  constructor(
    private readonly srf: Srf,
    private readonly session: CallSession,
    private readonly req: SrfRequest,
    private readonly res: SrfResponse,
    private readonly options: DialAgentsOptions,
  ) {}

  async run(): Promise<DialOutcome> {
    const { session, req, res } = this;
    req.on('cancel', () => {
      this.cancelled = true;
      this.ringing?.cancel(() => undefined);
      void session.end('caller cancelled');
    });
    const releaseRinging = session.own('ringing agent leg', () => {
      this.cancelled = true;
      this.ringing?.cancel(() => undefined);
    });
    try {
      for (const agent of this.options.agents) {
        if (this.cancelled || session.ended) return 'cancelled';
        const attempt = await this.tryAgent(agent);
        if (attempt.kind === 'failed') {
          session.log.info({ agent, status: attempt.status }, 'agent did not take the call');
          continue;
        }
        if (this.cancelled || session.ended) {
          await (attempt.kind === 'answered' ? hangUp(attempt.dialog) : attempt.leg.destroy());
          return 'cancelled';
        }
        const connected = attempt.kind === 'answered' ? await this.connect(agent, attempt.dialog) : await this.connectDelayedOffer(agent, attempt.leg);
        return connected ? 'connected' : 'cancelled';
      }
      // Decided before the release below, which marks the task cancelled to stop a hunt still running.
      if (this.cancelled || session.ended) return 'cancelled';
      reject(res, 'NO_AGENT');
      return 'no-agent';
    } finally {
      await releaseRinging();
    }
  }

  private async tryAgent(agent: string): Promise<AgentAttempt> {
    const { session, req, res } = this;
    session.state = 'ringing';
    session.agent = agent;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.ringing?.cancel(() => undefined);
    }, this.options.ringTimeoutMs);
    const delayedOffer = req.body === undefined || req.body === '';
    // The agent sees who is calling: drachtio-srf writes the caller's number and name into From
    // (and, unless told otherwise, into Contact too: a Contact with a display name trips up simple
    // UAs such as SIPp's [next_url], so ours is a bare URI the SIP server completes).
    const relay = reliableRelay(req);
    const headers = { Contact: '<sip:localhost>', ...relay.agentHeaders, ...this.options.headers };
    const caller = callerIdentity(req);
    const options = { ...(delayedOffer ? { noAck: true } : { localSdp: req.body }), headers, ...caller };
    const progress = {
      cbRequest: (a: unknown, b?: unknown) => {
        // drachtio-srf calls cbRequest(err, req); its typings say cbRequest(req).
        const sent = (b ?? a) as SrfRequest | undefined;
        if (sent !== undefined && sent !== null && typeof (sent as { cancel?: unknown }).cancel === 'function') {
          this.ringing = sent;
          if (this.cancelled || timedOut) sent.cancel(() => undefined);
        }
      },
      cbProvisional: (p: SrfResponse) => {
        if ((p.status === 180 || p.status === 183) && !res.finalResponseSent && !this.cancelled) {
          res.send(p.status, relay.provisional(p));
        }
      },
    };
    try {
      // The callback form runs in the same turn as the 200: the agent's requests are held from then on.
      const answered = await new Promise<unknown>((resolve, reject) => {
        this.srf.createUAC(agent, options, progress, (err: Error | null | undefined, dialog: SrfDialog) => {
          if (err !== null && err !== undefined) {
            reject(err);
            return;
          }
          if (!isUnackedUac(dialog)) holdRequests(dialog);
          resolve(dialog);
        });
      });
      return isUnackedUac(answered) ? { kind: 'offered', leg: answered } : { kind: 'answered', dialog: answered as SrfDialog };
    } catch (err) {
      return { kind: 'failed', status: timedOut ? 408 : (sipStatusOf(err) ?? 500) };
    } finally {
      clearTimeout(timer);
      this.ringing = undefined;
    }
  }

  /**
   * The agent offered (delayed offer): answer the caller with that offer, wait
   * for the caller's ACK, whose SDP is the answer, ACK the agent with it, bridge.
   */
  private async connectDelayedOffer(agent: string, agentLeg: UnackedUac): Promise<boolean> {
    const { session, req, res } = this;
    let callerLeg: SrfDialog;
    try {
      callerLeg = await this.srf.createUAS(req, res, { localSdp: agentLeg.sdp });
    } catch (err) {
      session.log.info({ agent, status: sipStatusOf(err) }, 'caller leg could not be answered');
      await agentLeg.destroy();
      return false;
    }
    // The caller's ACK carries the answer; without one the server ends the caller leg (64·T1).
    const answer = await new Promise<string | undefined>((resolve) => {
      // drachtio-srf emits the ACK request (its typings say a response; only the body is read).
      callerLeg.once('ack', (ack: { body?: string }) => resolve(ack.body ?? ''));
      callerLeg.once('destroy', () => resolve(undefined));
      // A BYE handled before these listeners existed (see bridge()).
      if (!isConnected(callerLeg)) resolve(undefined);
    });
    if (answer === undefined || session.ended) {
      await Promise.all([hangUp(callerLeg), agentLeg.destroy()]);
      return false;
    }
    let agentDialog: SrfDialog;
    try {
      agentDialog = await agentLeg.ack(answer);
    } catch (err) {
      session.log.info({ agent, err: err instanceof Error ? err.message : String(err) }, 'agent leg could not be acknowledged');
      await Promise.all([hangUp(callerLeg), agentLeg.destroy()]);
      return false;
    }
    bridge(session, callerLeg, agentDialog);
    session.log.info({ agent, delayedOffer: true }, 'call connected');
    return true;
  }

  /** The agent answered: answer the caller with the agent's SDP and bridge. */
  private async connect(agent: string, agentLeg: SrfDialog): Promise<boolean> {
    const { session, req, res } = this;
    try {
      // The callback form runs in the same turn as the 200's confirmation: the caller's requests are held from then on.
      const callerLeg = await new Promise<SrfDialog>((resolve, reject) => {
        this.srf.createUAS(req, res, { localSdp: agentLeg.remote.sdp }, (err: Error | null | undefined, dialog: SrfDialog) => {
          if (err !== null && err !== undefined) {
            reject(err);
            return;
          }
          holdRequests(dialog);
          resolve(dialog);
        });
      });
      if (session.ended) {
        await Promise.all([hangUp(callerLeg), hangUp(agentLeg)]);
        return false;
      }
      bridge(session, callerLeg, agentLeg);
      session.log.info({ agent }, 'call connected');
      return true;
    } catch (err) {
      // The caller went away while the agent answered (CANCEL crossing the 200).
      session.log.info({ agent, status: sipStatusOf(err) }, 'caller leg could not be answered');
      await hangUp(agentLeg);
      return false;
    }
  }
}
