/**
 * The supervisors of one call: one shared CallMonitor (subscription + mix),
 * started by the first supervisor and stopped after the last, and one
 * MonitorSession per supervisor. A session reaches its supervisor's device
 * through a relay leg in rtpengine (a separate rtpengine call
 * `<callId>~<label>`: our output offers sendonly and the device answers, or
 * the device called in with its offer and our output answers it), or
 * straight from our socket, or to a fixed RTP destination. A browser device
 * gets ICE and DTLS-SRTP on its side of the relay leg (src/media/webrtc.ts);
 * our side is always plain G.711.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../observability/logger.js';
import { MediaStateError } from '../media-errors.js';
import type { NgClient } from '../ng/ng-client.js';
import { paramsToward, peerOf, type MediaPeer, type PeerParams } from '../webrtc.js';
import { CallMonitor, type CallMonitorStats } from './call-monitor.js';
import type { MonitorDestination, MonitorOutput } from './monitor-output.js';

export interface MonitorOptions {
  /** The supervisor's label in the relay leg (default supervisor-N). */
  readonly label?: string;
  /** Send the mix straight to this RTP destination (no SDP involved). */
  readonly destination?: MonitorDestination;
  /**
   * Without a destination: relay the mix to the supervisor's device through
   * rtpengine (default; it handles NAT and codecs) or offer our socket
   * directly (`false`).
   */
  readonly relay?: boolean;
  /** What the device is, for the relay leg's offer to it: a browser (`webrtc`) or a phone (`rtp`, default). */
  readonly peer?: MediaPeer;
  /**
   * The device called in with this offer: rtpengine takes it on the relay leg
   * and the session's `answerSdp` answers the device (no `accept()` needed).
   */
  readonly deviceOffer?: string;
}

const REPLACE = ['origin', 'session-connection'];

/** The conversion for an answer: no codec may be added (RFC 3264 §6.1). */
function answerParams(peer: MediaPeer): PeerParams {
  const { codec: _codec, ...rest } = paramsToward(peer);
  return rest;
}

/** One supervisor listening to the call. */
export interface MonitorSession {
  readonly label: string;
  /** SDP to offer to the supervisor's device; undefined with a fixed destination or a device that offered. */
  readonly offerSdp: string | undefined;
  /** With `deviceOffer`: the SDP that answers the device; it receives the mix from then on. */
  readonly answerSdp: string | undefined;
  /** The device's SDP answer: from now on it receives the mix. */
  accept(answerSdp: string): Promise<void>;
  stats(): CallMonitorStats;
  /** Stops this supervisor's stream (the subscription ends with the last one). Idempotent. */
  close(): Promise<void>;
}

/** What monitoring needs from the call it belongs to. */
export interface MonitoringHost {
  readonly callId: string;
  readonly client: NgClient;
  isReleased(): boolean;
  /** Labels of the call's parties now (they are the rtpengine tags). */
  labels(): string[];
  /** Best-effort delete of an rtpengine call (never throws). */
  deleteRemote(callId: string): Promise<void>;
}

export class CallMonitoring {
  private monitorHub: Promise<CallMonitor> | undefined;
  private readonly monitorSessions = new Set<MonitorSession>();
  private readonly relayCalls = new Set<string>();
  private supervisorCounter = 0;

  constructor(
    private readonly host: MonitoringHost,
    private readonly settings: { readonly bindAddress: string; readonly jitterMs: number; readonly minJitterMs: number },
    private readonly logger: Logger,
  ) {}

  /** A new supervisor session (see CallMedia.monitor). */
  async open(options: MonitorOptions): Promise<MonitorSession> {
    const label = options.label ?? `supervisor-${++this.supervisorCounter}`;
    const hub = await this.monitorHubFor();
    const output = await hub.addOutput();
    let relayCallId: string | undefined;
    let offerSdp: string | undefined;
    let answerSdp: string | undefined;
    try {
      if (options.destination !== undefined) {
        output.setDestination(options.destination);
      } else if (options.relay === false && options.deviceOffer === undefined) {
        offerSdp = output.sdpOffer();
      } else {
        relayCallId = `${this.host.callId}~${label}`;
        this.relayCalls.add(relayCallId);
        if (options.deviceOffer !== undefined) answerSdp = await this.answerDevice(relayCallId, label, options.deviceOffer, output);
        else offerSdp = await this.offerDevice(relayCallId, output, options.peer ?? 'rtp');
      }
    } catch (e) {
      hub.removeOutput(output);
      if (relayCallId !== undefined) {
        this.relayCalls.delete(relayCallId);
        await this.host.deleteRemote(relayCallId);
      }
      await this.dropHubIfUnused();
      throw e;
    }
    return this.newMonitorSession(label, hub, output, { offerSdp, answerSdp, relayCallId, peer: options.peer ?? 'rtp' });
  }

  /** The relay leg's offer to the device (our output's sendonly G.711 offer, converted for a browser). */
  private async offerDevice(relayCallId: string, output: MonitorOutput, peer: MediaPeer): Promise<string> {
    const reply = await this.host.client.request('offer', {
      'call-id': relayCallId,
      'from-tag': 'mixer',
      label: 'mixer',
      sdp: output.sdpOffer(),
      replace: REPLACE,
      ...(peer === 'webrtc' ? paramsToward('webrtc') : { ICE: 'remove' as const }),
    });
    return reply.sdp;
  }

  /**
   * The device offered: rtpengine takes its offer (G.711 added for our side,
   * transcoded, when the device offered neither PCMU nor PCMA), our output
   * answers sendonly, and rtpengine's answer goes back to the device.
   */
  private async answerDevice(relayCallId: string, label: string, deviceOffer: string, output: MonitorOutput): Promise<string> {
    const forMixer = await this.host.client.request('offer', { 'call-id': relayCallId, 'from-tag': label, label, sdp: deviceOffer, replace: REPLACE, ...paramsToward('rtp') });
    output.setRemoteSdp(forMixer.sdp);
    const toDevice = await this.host.client.request('answer', {
      'call-id': relayCallId,
      'from-tag': label,
      'to-tag': 'mixer',
      label: 'mixer',
      sdp: output.sdpAnswer(),
      replace: REPLACE,
      ...answerParams(peerOf(deviceOffer)),
    });
    return toDevice.sdp;
  }

  private newMonitorSession(
    label: string,
    hub: CallMonitor,
    output: MonitorOutput,
    leg: { readonly offerSdp: string | undefined; readonly answerSdp: string | undefined; readonly relayCallId: string | undefined; readonly peer: MediaPeer },
  ): MonitorSession {
    let closed = false;
    const { relayCallId } = leg;
    const session: MonitorSession = {
      label,
      offerSdp: leg.offerSdp,
      answerSdp: leg.answerSdp,
      accept: async (answerSdp: string) => {
        if (closed) throw new MediaStateError(`monitor session ${label} is closed`);
        if (leg.answerSdp !== undefined) throw new MediaStateError(`monitor session ${label} answered the device's offer already`);
        if (relayCallId === undefined) {
          output.setRemoteSdp(answerSdp);
          return;
        }
        const toMixer = await this.host.client.request('answer', {
          'call-id': relayCallId,
          'from-tag': 'mixer',
          'to-tag': label,
          label,
          sdp: answerSdp,
          replace: REPLACE,
          ...(leg.peer === 'webrtc' || peerOf(answerSdp) === 'webrtc' ? answerParams('rtp') : { ICE: 'remove' as const }),
        });
        output.setRemoteSdp(toMixer.sdp);
      },
      stats: () => hub.stats(),
      close: async () => {
        if (closed) return;
        closed = true;
        this.monitorSessions.delete(session);
        hub.removeOutput(output);
        if (relayCallId !== undefined && !this.host.isReleased()) {
          this.relayCalls.delete(relayCallId);
          await this.host.deleteRemote(relayCallId);
        }
        await this.dropHubIfUnused();
      },
    };
    this.monitorSessions.add(session);
    return session;
  }

  private readonly subscriberTag = `monitor-${randomBytes(4).toString('hex')}`;

  private monitorHubFor(): Promise<CallMonitor> {
    if (this.monitorHub === undefined) {
      const sources = this.host.labels().map((label) => ({ label, tag: label }));
      const hub = CallMonitor.start({
        client: this.host.client,
        callId: this.host.callId,
        sources,
        bindAddress: this.settings.bindAddress,
        jitterMs: this.settings.jitterMs,
        minJitterMs: this.settings.minJitterMs,
        logger: this.logger,
        // One subscriber party for the call's whole life: Monitor / Stop cycles re-subscribe it instead of leaving
        // a party with four ports behind at rtpengine each time (it frees them only with the call).
        subscriberTag: this.subscriberTag,
      });
      this.monitorHub = hub;
      hub.catch(() => {
        if (this.monitorHub === hub) this.monitorHub = undefined;
      });
    }
    return this.monitorHub;
  }

  private async dropHubIfUnused(): Promise<void> {
    const pending = this.monitorHub;
    if (pending === undefined || this.monitorSessions.size > 0) return;
    const hub = await pending.catch(() => undefined);
    if (hub === undefined || hub.outputCount > 0 || this.monitorSessions.size > 0) return;
    this.monitorHub = undefined;
    await hub.stop({ remote: !this.host.isReleased() });
  }

  /**
   * The call is being released: close every session and the mix locally (the
   * call's delete ends the subscription). Resolves with the relay legs still
   * open at rtpengine, for the caller to delete (or not, if rtpengine is gone).
   */
  async closeAll(): Promise<string[]> {
    const sessions = [...this.monitorSessions];
    this.monitorSessions.clear();
    const hub = this.monitorHub;
    this.monitorHub = undefined;
    const relays = [...this.relayCalls];
    this.relayCalls.clear();
    await Promise.all(sessions.map((s) => s.close()));
    const h = await hub?.catch(() => undefined);
    await h?.stop({ remote: false });
    return relays;
  }
}


