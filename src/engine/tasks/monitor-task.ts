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
 * A browser (the supervisors' web console) is not called: it calls in with a
 * one-time ticket (monitor-tickets.ts) and `answerMonitor` answers its INVITE
 * with the relay leg, answering the browser's offer (or offering, when the
 * INVITE had none). A device reached over WebSocket gets a WebRTC offer.
 *
 * The device's own offers (RFC 3261 §14): an offer-less re-INVITE is answered
 * with our offer (or answer) again; an offer with SDP gets 488, which leaves the
 * session as it was (§14.2): the monitor stream is one-way and not
 * renegotiable here.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import { isWebSocketUri, MediaStateError, type CallMedia, type MonitorSession } from '../../media/index.js';
import type { CallSession, SupervisorMonitor } from '../session/call-session.js';
import { SipFailure, type InboundInvite, type SipLeg, type SipPort } from '../signaling/sip-port.js';

export interface MonitorRequest {
  readonly user: string;
  /** The device's SIP URI. */
  readonly device: string;
  /** The Path it registered through (RFC 3327), as a preloaded route set. */
  readonly route?: readonly string[];
  /** Where a UDP device behind NAT registered from (DialTarget.proxy). */
  readonly proxy?: string;
  readonly ringTimeoutMs: number;
}

export type MonitorChange = 'ringing' | 'listening' | 'stopped';

export interface MonitorDeps {
  readonly session: CallSession;
  readonly media: CallMedia;
  readonly sip: SipPort;
  /** Told of every change (the API's event stream and audit log listen). */
  readonly onChange: (monitor: SupervisorMonitor, change: MonitorChange, detail: MonitorChangeDetail) => void;
  /** How often a listening device is asked whether it is still there (an OPTIONS in its dialog); undefined: never. */
  readonly probeIntervalMs?: number | undefined;
}

/**
 * What an OPTIONS in the monitor's dialog got when the device is gone: 408
 * and 481 end the dialog (RFC 3261 §12.2.1.2); 503 is what the SIP server
 * answers itself when it cannot send the request (§8.1.3.1: the connection of
 * a browser's WebSocket is closed); undefined: the request could not be sent.
 */
function deviceGone(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 481 || status === 503;
}

export interface MonitorChangeDetail {
  readonly reason?: string;
  readonly by?: string;
  /** Set when the device called in with a ticket: where its INVITE came from. */
  readonly calledIn?: { readonly address: string; readonly transport: string; readonly userAgent: string | undefined };
}

/** The supervisor's device did not answer (busy, declined, no answer, unreachable), or the call ended while it rang. */
export class MonitorDeviceError extends SwitchboardError {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly callEnded = false,
    /** Stopped (DELETE, a revoked key) while the device rang: our CANCEL, not the device's answer. */
    readonly stoppedFirst = false,
    /** The monitor it was listed under while the device rang (for the audit entry of the failed start). */
    readonly monitorId?: string,
    /** The SIP server would not send to the device (its address cannot be reached from here): nothing rang. */
    readonly notSent = false,
  ) {
    super(
      callEnded || stoppedFirst ? ErrorCodes.CONFLICT : notSent ? ErrorCodes.API_BAD_REQUEST : ErrorCodes.MONITOR_DEVICE_FAILED,
      callEnded
        ? 'the call ended while the device was ringing'
        : stoppedFirst
          ? 'the monitor was stopped while the device was ringing'
          : notSent
            ? `the device cannot be called from here: ${reason}`
            : `the device answered ${status} ${reason}`,
    );
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
  private probeTimer: NodeJS.Timeout | undefined;
  private disown: () => Promise<void> = async () => undefined;
  /** The SDP the device got from us (our offer, or our answer to its offer): a re-INVITE without an offer gets it again. */
  private localSdp: string | undefined;

  constructor(
    private readonly deps: MonitorDeps,
    readonly user: string,
    readonly device: string,
    private readonly route?: readonly string[],
    private readonly proxy?: string,
  ) {
    this.startedAt = deps.session.now();
  }

  get label(): string {
    return `supervisor-${this.id.slice(1)}`;
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /** Listed on the call, and owned by it: the call's end stops the monitor (device BYE) before the call's media is released. */
  private register(): void {
    const { session } = this.deps;
    session.monitors.set(this.id, this);
    this.disown = session.own(`monitor ${this.id}`, () => (this.stopped ? undefined : this.stop('call ended', 'engine')));
  }

  /** The device answered (or we answered it): it receives the mix from now on. */
  private listening(leg: SipLeg, detail: MonitorChangeDetail): void {
    const { session } = this.deps;
    leg.onOffer(async (offer) => {
      if (offer.sdp === undefined && this.localSdp !== undefined) return { sdp: this.localSdp, onAck: () => undefined };
      throw new SipFailure(488, 'Not Acceptable Here');
    });
    leg.onHangUp(() => void this.stop('device hung up', 'device'));
    this.probeLater(leg);
    this.state = 'listening';
    this.listeningSince = session.now();
    session.log.info({ monitor: this.id, user: this.user, device: this.device, calledIn: detail.calledIn !== undefined }, 'monitor listening');
    this.deps.onChange(this, 'listening', { by: this.user, ...detail });
  }

  async start(ringTimeoutMs: number): Promise<void> {
    const { session, media, sip } = this.deps;
    this.register();
    this.deps.onChange(this, 'ringing', { by: this.user });
    const timer = setTimeout(() => this.ringing.abort(), ringTimeoutMs);
    try {
      this.stream = await media.monitor({ label: this.label, peer: isWebSocketUri(this.device) ? 'webrtc' : 'rtp' });
      this.localSdp = this.stream.offerSdp;
      if (this.stream.offerSdp === undefined) throw new Error('the monitor relay leg gave no SDP');
      const result = await sip.dial({
        target: this.device,
        ...(this.route !== undefined ? { route: this.route } : {}),
        ...(this.proxy !== undefined ? { proxy: this.proxy } : {}),
        offer: this.stream.offerSdp,
        headers: { 'X-Switchboard-Call': session.id, 'X-Switchboard-Monitor': this.id },
        caller: MONITOR_IDENTITY,
        signal: AbortSignal.any([this.ringing.signal, session.signal]),
      });
      if (result.kind !== 'answered') {
        if (result.kind === 'offered') await result.abandon();
        const status = result.kind === 'failed' ? result.status : 488;
        const reason = result.kind === 'failed' ? result.reason : 'the device offered instead of answering';
        if (session.ended || this.stopped) throw new MonitorDeviceError(487, 'Request Terminated', session.ended, !session.ended);
        if (this.ringing.signal.aborted) throw new MonitorDeviceError(408, 'no answer');
        throw new MonitorDeviceError(status, reason, false, false, undefined, result.kind === 'failed' && result.notSent === true);
      }
      this.leg = result.leg;
      if (this.stopped || session.ended) throw new MonitorDeviceError(487, 'Request Terminated', session.ended, !session.ended);
      await this.stream.accept(result.leg.remoteSdp);
      this.listening(result.leg, {});
    } catch (e) {
      await this.stop(e instanceof MonitorDeviceError ? `device: ${e.status} ${e.reason}` : `failed: ${e instanceof Error ? e.message : String(e)}`, 'engine');
      await this.hangUpLate();
      // The call ended under us (its media released, its signal aborted): that is the answer, whatever failed.
      if (session.ended && !(e instanceof MonitorDeviceError && e.callEnded)) throw new MonitorDeviceError(487, 'Request Terminated', true, false, this.id);
      if (e instanceof MonitorDeviceError && e.monitorId === undefined) throw new MonitorDeviceError(e.status, e.reason, e.callEnded, e.stoppedFirst, this.id, e.notSent);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The device called in (a ticket's INVITE): answer its offer with the relay
   * leg (or, for an INVITE without SDP, offer in the 200, WebRTC to a browser
   * on WebSocket, and take the answer from the ACK, RFC 3261 §13.2.1).
   * Refuses the INVITE when it cannot.
   */
  async answer(invite: InboundInvite, browser: boolean): Promise<void> {
    const { session, media } = this.deps;
    this.register();
    const headers = { 'X-Switchboard-Call': session.id, 'X-Switchboard-Monitor': this.id };
    try {
      if (invite.offer !== undefined) {
        this.stream = await media.monitor({ label: this.label, deviceOffer: invite.offer });
        this.localSdp = this.stream.answerSdp;
        if (this.localSdp === undefined) throw new Error('the monitor relay leg gave no answer');
        this.leg = await invite.answer(this.localSdp, headers);
      } else {
        this.stream = await media.monitor({ label: this.label, peer: browser ? 'webrtc' : 'rtp' });
        this.localSdp = this.stream.offerSdp;
        if (this.localSdp === undefined) throw new Error('the monitor relay leg gave no SDP');
        const { leg, answer } = await invite.answerWithOffer(this.localSdp, headers);
        this.leg = leg;
        if (answer === undefined) throw new MonitorDeviceError(487, 'the device sent no answer in its ACK');
        await this.stream.accept(answer);
      }
      if (this.stopped || session.ended) throw new MonitorDeviceError(487, 'Request Terminated', session.ended);
      this.listening(this.leg, { calledIn: { address: invite.source.address, transport: invite.source.transport, userAgent: invite.header('User-Agent') } });
    } catch (e) {
      // An offer we cannot serve (sendonly, no audio, no codec rtpengine can reach) is 488 (RFC 3261 §13.3.1.1).
      if (e instanceof MediaStateError) invite.reject(488, 'Not Acceptable Here', { Warning: `399 switchboard "${e.message.replace(/["\\\r\n]/g, '')}"` });
      else invite.reject(session.ended ? 410 : 500, session.ended ? 'Gone' : 'Server Internal Error');
      await this.stop(e instanceof Error ? `failed: ${e.message}` : 'failed', 'engine');
      await this.hangUpLate();
      throw e;
    }
  }

  /**
   * The device may vanish without a BYE (a browser tab closed, its WebSocket
   * gone; a phone off the network): every probeIntervalMs an OPTIONS in its
   * dialog asks whether it is still there, and a device that is gone stops
   * the monitor as a BYE would, so it is neither listed nor fed any longer.
   */
  private probeLater(leg: SipLeg): void {
    const every = this.deps.probeIntervalMs;
    if (every === undefined || this.stopped) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void leg.probe().then((status) => {
        if (this.stopped || !leg.connected) return;
        if (!deviceGone(status)) return this.probeLater(leg);
        return this.stop(`device gone (OPTIONS in its dialog: ${status ?? 'not sent'})`, 'engine');
      });
    }, every);
    this.probeTimer.unref();
  }

  /** A leg that came up after stop() had run (the call ended while the device answered) is hung up too. */
  private async hangUpLate(): Promise<void> {
    if (this.leg?.connected === true) await this.leg.hangUp('monitor stopped').catch(() => undefined);
  }

  stop(reason: string, by: string): Promise<void> {
    this.stopping ??= (async () => {
      const { session } = this.deps;
      this.ringing.abort();
      clearTimeout(this.probeTimer);
      session.monitors.delete(this.id);
      // The BYE goes out now; its answer is not waited for: a device gone from the network (unplugged, a closed
      // laptop) would hold the rest of the call's end, the agent's BYE included, for Timer F (32 s) per device.
      void this.leg?.hangUp(reason).catch(() => undefined);
      await this.stream?.close().catch((e: unknown) => session.log.warn({ monitor: this.id, err: e instanceof Error ? e.message : String(e) }, 'monitor stream close failed'));
      await this.disown();
      session.log.info({ monitor: this.id, user: this.user, reason, by }, 'monitor stopped');
      this.deps.onChange(this, 'stopped', { reason, by });
    })();
    return this.stopping;
  }
}

/** Answers a device that called in with a ticket (see MonitorLeg.answer); rejects after refusing the INVITE. */
export async function answerMonitor(deps: MonitorDeps, invite: InboundInvite, request: { readonly user: string; readonly device: string; readonly browser: boolean }): Promise<SupervisorMonitor> {
  const monitor = new MonitorLeg(deps, request.user, request.device);
  await monitor.answer(invite, request.browser);
  return monitor;
}

/** Calls the device and resolves once it listens; rejects (MonitorDeviceError) when it does not answer. */
export async function startMonitor(deps: MonitorDeps, request: MonitorRequest): Promise<SupervisorMonitor> {
  const monitor = new MonitorLeg(deps, request.user, request.device, request.route, request.proxy);
  await monitor.start(request.ringTimeoutMs);
  return monitor;
}
