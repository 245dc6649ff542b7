/**
 * Silent monitoring of a live call: the engine calls the supervisor's device
 * (a new outbound leg of its own) offering rtpengine's relay leg of the call's
 * shared monitor mix (src/media/monitor/), and the device hears caller and
 * agent mixed from the moment it answers. Nothing touches the caller's or the
 * agent's legs: the mix comes from a subscription to what they already send.
 *
 * Unlike the call-flow tasks it starts from outside the flow (a supervisor's
 * request), so it receives the session, the call's media and the SIP port
 * rather than the flow's context. The leg is owned by the session, so the
 * monitor ends with the call; the device hanging up stops it; `stop()` is the
 * one cleanup path (device BYE, stream closed, subscription dropped with the
 * last supervisor), idempotent and never throwing.
 *
 * The device's own offers (RFC 3261 §14): an offer-less re-INVITE is answered
 * with our offer again; an offer with SDP gets 488, which leaves the session as
 * it was (§14.2): the monitor stream is one-way and not renegotiable here.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { CallMedia, MonitorSession } from '../../media/index.js';
import type { CallSession, SupervisorMonitor } from '../session/call-session.js';
import { SipFailure, type SipLeg, type SipPort } from '../signaling/sip-port.js';

export interface MonitorRequest {
  readonly user: string;
  /** The device's SIP URI. */
  readonly device: string;
  readonly ringTimeoutMs: number;
}

export type MonitorChange = 'ringing' | 'listening' | 'stopped';

export interface MonitorDeps {
  readonly session: CallSession;
  readonly media: CallMedia;
  readonly sip: SipPort;
  /** Told of every change (the API's event stream and audit log listen). */
  readonly onChange: (monitor: SupervisorMonitor, change: MonitorChange, detail: { readonly reason?: string; readonly by?: string }) => void;
}

/** The supervisor's device did not answer (busy, declined, no answer, unreachable), or the call ended while it rang. */
export class MonitorDeviceError extends SwitchboardError {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly callEnded = false,
  ) {
    super(callEnded ? ErrorCodes.CONFLICT : ErrorCodes.MONITOR_DEVICE_FAILED, callEnded ? 'the call ended while the device was ringing' : `the device answered ${status} ${reason}`);
  }
}

const MONITOR_IDENTITY = { number: 'monitor', name: 'Switchboard monitor', withheld: false } as const;

class MonitorLeg implements SupervisorMonitor {
  readonly id = `m${randomBytes(6).toString('hex')}`;
  readonly startedAt: number;
  state: 'ringing' | 'listening' = 'ringing';
  listeningSince: number | undefined;
  private readonly ringing = new AbortController();
  private stream: MonitorSession | undefined;
  private leg: SipLeg | undefined;
  private stopping: Promise<void> | undefined;
  private disown: () => Promise<void> = async () => undefined;

  constructor(
    private readonly deps: MonitorDeps,
    readonly user: string,
    readonly device: string,
  ) {
    this.startedAt = deps.session.now();
  }

  get label(): string {
    return `supervisor-${this.id.slice(1)}`;
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  async start(ringTimeoutMs: number): Promise<void> {
    const { session, media, sip } = this.deps;
    session.monitors.set(this.id, this);
    // Owned: the call's end stops the monitor (device BYE) before the call's media is released.
    this.disown = session.own(`monitor ${this.id}`, () => (this.stopped ? undefined : this.stop('call ended', 'engine')));
    this.deps.onChange(this, 'ringing', { by: this.user });
    const timer = setTimeout(() => this.ringing.abort(), ringTimeoutMs);
    try {
      this.stream = await media.monitor({ label: this.label });
      if (this.stream.offerSdp === undefined) throw new Error('the monitor relay leg gave no SDP');
      const result = await sip.dial({
        target: this.device,
        offer: this.stream.offerSdp,
        headers: { 'X-Switchboard-Call': session.id, 'X-Switchboard-Monitor': this.id },
        caller: MONITOR_IDENTITY,
        signal: AbortSignal.any([this.ringing.signal, session.signal]),
      });
      if (result.kind !== 'answered') {
        if (result.kind === 'offered') await result.abandon();
        const status = result.kind === 'failed' ? result.status : 488;
        const reason = result.kind === 'failed' ? result.reason : 'the device offered instead of answering';
        throw session.ended || this.stopped ? new MonitorDeviceError(487, 'Request Terminated', session.ended) : new MonitorDeviceError(this.ringing.signal.aborted ? 408 : status, this.ringing.signal.aborted ? 'no answer' : reason);
      }
      this.leg = result.leg;
      if (this.stopped || session.ended) throw new MonitorDeviceError(487, 'Request Terminated', session.ended);
      result.leg.onOffer(async (offer) => {
        if (offer.sdp === undefined && this.stream?.offerSdp !== undefined) return { sdp: this.stream.offerSdp, onAck: () => undefined };
        throw new SipFailure(488, 'Not Acceptable Here');
      });
      result.leg.onHangUp(() => void this.stop('device hung up', 'device'));
      await this.stream.accept(result.leg.remoteSdp);
      this.state = 'listening';
      this.listeningSince = session.now();
      session.log.info({ monitor: this.id, user: this.user, device: this.device }, 'monitor listening');
      this.deps.onChange(this, 'listening', { by: this.user });
    } catch (e) {
      await this.stop(e instanceof MonitorDeviceError ? `device: ${e.status} ${e.reason}` : `failed: ${e instanceof Error ? e.message : String(e)}`, 'engine');
      // The call ended under us (its media released, its signal aborted): that is the answer, whatever failed.
      if (session.ended && !(e instanceof MonitorDeviceError && e.callEnded)) throw new MonitorDeviceError(487, 'Request Terminated', true);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  stop(reason: string, by: string): Promise<void> {
    this.stopping ??= (async () => {
      const { session } = this.deps;
      this.ringing.abort();
      session.monitors.delete(this.id);
      await this.leg?.hangUp(reason).catch(() => undefined);
      await this.stream?.close().catch((e: unknown) => session.log.warn({ monitor: this.id, err: e instanceof Error ? e.message : String(e) }, 'monitor stream close failed'));
      await this.disown();
      session.log.info({ monitor: this.id, user: this.user, reason, by }, 'monitor stopped');
      this.deps.onChange(this, 'stopped', { reason, by });
    })();
    return this.stopping;
  }
}

/** Calls the device and resolves once it listens; rejects (MonitorDeviceError) when it does not answer. */
export async function startMonitor(deps: MonitorDeps, request: MonitorRequest): Promise<SupervisorMonitor> {
  const monitor = new MonitorLeg(deps, request.user, request.device);
  await monitor.start(request.ringTimeoutMs);
  return monitor;
}
