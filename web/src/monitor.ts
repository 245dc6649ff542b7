/**
 * Listening in the browser: the page becomes the supervisor's monitoring
 * device with SIP.js over a SIP WebSocket (RFC 7118). It asks the API for a
 * one-time ticket (a SIP URI), sends an INVITE to it with a receive-only
 * WebRTC offer (no microphone is ever asked for), and plays what the engine
 * answers with: caller and agent mixed, through rtpengine (ICE, DTLS-SRTP).
 *
 * Stopping goes through the API (DELETE the monitor: audited as the user, and
 * the engine sends the BYE); a BYE from the page is the fallback when the API
 * cannot be reached. The engine ends the session itself when the call ends.
 */
import { Inviter, SessionState, UserAgent, Web, type SessionDescriptionHandlerFactory } from 'sip.js';
import type { Api } from './api.js';
import type { MonitorTicket } from './types.js';

export type MonitorPhase = 'connecting' | 'listening' | 'stopping' | 'ended';

export interface MonitorCallbacks {
  /** `failed`: the session ended because something went wrong (not a stop, not the call's end). */
  onPhase(phase: MonitorPhase, detail?: string, failed?: boolean): void;
}

/**
 * SIP.js's default handler, made receive-only: no getUserMedia (empty
 * constraints give an empty stream) and one recvonly audio transceiver, so the
 * offer has an audio m-line without a microphone. No STUN server: SIP.js's
 * default is a public one, and rtpengine learns the browser's address from
 * its ICE checks anyway.
 */
const receiveOnly: SessionDescriptionHandlerFactory = (session, options) => {
  const base = Web.defaultSessionDescriptionHandlerFactory();
  const sdh = base(session, { ...(options as object), peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 1500 });
  sdh.peerConnection?.addTransceiver('audio', { direction: 'recvonly' });
  return sdh;
};

export class BrowserMonitor {
  private ua: UserAgent | undefined;
  private inviter: Inviter | undefined;
  /** The engine's monitor id (X-Switchboard-Monitor in the 200). */
  monitorId: string | undefined;
  private meterTimer: number | undefined;
  private context: AudioContext | undefined;
  private phase: MonitorPhase = 'connecting';
  private rejection: string | undefined;
  /** Why stop() was called, when not by the supervisor (a media failure). */
  private failure: string | undefined;

  constructor(
    private readonly api: Api,
    readonly callId: string,
    private readonly audio: HTMLAudioElement,
    private readonly meter: HTMLMeterElement,
    private readonly callbacks: MonitorCallbacks,
  ) {}

  private set(phase: MonitorPhase, detail?: string): void {
    if (this.phase === 'ended') return;
    this.phase = phase;
    this.callbacks.onPhase(phase, detail, phase === 'ended' && this.failure !== undefined);
  }

  /** Resolves once listening; rejects (with the reason) when the engine refused or the connection failed. */
  async start(user: string): Promise<void> {
    this.set('connecting');
    const ticket = await this.api.request<MonitorTicket>('POST', `/calls/${encodeURIComponent(this.callId)}/monitor-tickets`, {});
    const target = UserAgent.makeURI(ticket.uri);
    if (target === undefined) throw new Error(`the API gave an unusable SIP URI: ${ticket.uri}`);
    const ua = new UserAgent({
      transportOptions: { server: ticket.webSocket, connectionTimeout: 5 },
      sessionDescriptionHandlerFactory: receiveOnly,
      displayName: user,
      userAgentString: 'Switchboard console (SIP.js)',
      logBuiltinEnabled: false,
      logLevel: 'error',
    });
    this.ua = ua;
    await ua.start();
    const inviter = new Inviter(ua, target, { sessionDescriptionHandlerOptions: { constraints: { audio: false, video: false } } });
    this.inviter = inviter;
    const established = new Promise<void>((resolve, reject) => {
      inviter.stateChange.addListener((state) => {
        if (state === SessionState.Established) resolve();
        if (state === SessionState.Terminated) {
          // SIP.js tells the request delegate of a rejection after the state change: read it a turn later.
          window.setTimeout(() => reject(new Error(this.rejection ?? 'the call to the monitor ended')), 0);
          void this.finish(this.failure ?? (this.phase === 'stopping' ? 'stopped' : 'ended by the server'));
        }
      });
    });
    await inviter.invite({
      requestDelegate: {
        onAccept: (response) => {
          this.monitorId = response.message.getHeader('X-Switchboard-Monitor');
        },
        onReject: (response) => {
          this.rejection = `the engine answered ${response.message.statusCode} ${response.message.reasonPhrase}`;
        },
      },
    });
    await established;
    const sdh = inviter.sessionDescriptionHandler as Web.SessionDescriptionHandler;
    this.audio.srcObject = sdh.remoteMediaStream;
    await this.audio.play().catch(() => undefined);
    this.startMeter(sdh.remoteMediaStream);
    if (sdh.peerConnection !== undefined) this.watchMedia(sdh.peerConnection);
    this.set('listening');
  }

  /**
   * A media path that fails after the SIP session is up (ICE: rtpengine
   * unreachable from the browser, or no longer answering its consent checks,
   * RFC 7675) would leave a silent "Listening": the session is stopped instead,
   * through the API as Stop Monitoring is, and the supervisor told why.
   */
  private watchMedia(pc: RTCPeerConnection): void {
    const check = (): void => {
      if (pc.connectionState === 'failed' || pc.iceConnectionState === 'failed') void this.stop('no audio reaches the browser: its media connection to the engine failed (ICE)');
    };
    pc.addEventListener('connectionstatechange', check);
    pc.addEventListener('iceconnectionstatechange', check);
    check();
  }

  /** A level meter, so the supervisor sees that audio arrives (and screen-reader users hear it does). */
  private startMeter(stream: MediaStream): void {
    const AudioContextCtor = window.AudioContext;
    const context = new AudioContextCtor();
    this.context = context;
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.meterTimer = window.setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      this.meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    }, 200);
  }

  /** Stop Monitoring: through the API (audited; the engine hangs up), else by a BYE of our own. `failure`: why, when the supervisor did not ask. */
  async stop(failure?: string): Promise<void> {
    if (this.phase === 'ended' || this.phase === 'stopping') return;
    this.failure = failure;
    this.set('stopping');
    const inviter = this.inviter;
    let viaApi = false;
    if (this.monitorId !== undefined) {
      try {
        await this.api.request('DELETE', `/calls/${encodeURIComponent(this.callId)}/monitors/${encodeURIComponent(this.monitorId)}`);
        viaApi = true;
      } catch {
        // the monitor or the call is gone already, or the API is unreachable: hang up ourselves
      }
    }
    if (inviter !== undefined && inviter.state !== SessionState.Terminated) {
      const ended = new Promise<void>((resolve) => {
        inviter.stateChange.addListener((s) => {
          if (s === SessionState.Terminated) resolve();
        });
        window.setTimeout(resolve, viaApi ? 3000 : 0);
      });
      await ended;
      if (inviter.state === SessionState.Established) await inviter.bye().catch(() => undefined);
      else if (inviter.state === SessionState.Establishing) await inviter.cancel().catch(() => undefined);
    }
    await this.finish(this.failure ?? 'stopped');
  }

  private async finish(why: string): Promise<void> {
    if (this.phase === 'ended') return;
    window.clearInterval(this.meterTimer);
    this.meter.value = 0;
    this.audio.srcObject = null;
    await this.context?.close().catch(() => undefined);
    const ua = this.ua;
    this.set('ended', why);
    this.phase = 'ended';
    await ua?.stop().catch(() => undefined);
  }
}
