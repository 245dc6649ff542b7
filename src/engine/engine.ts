/**
 * The engine: a drachtio-srf application, wired to its services. It admits
 * each INVITE, gives it a session, anchors it at rtpengine and runs the
 * inbound flow (src/engine/flows/); everything a call does is a task. It
 * connects to a drachtio server (the embedded one by default, or a real
 * drachtio-server) by host, port and secret only.
 */
import { join, resolve } from 'node:path';
import Srf from 'drachtio-srf';
import type { SwitchboardConfig } from '../config/load.js';
import type { MediaService } from '../media/index.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import { createPolicy } from '../policy/index.js';
import { servedLanguages } from '../policy/languages.js';
import type { RecordingCapture } from '../recordings/service/recording-capture.js';
import { admit, rejectionOf } from './admission.js';
import { AgentServices, type AgentServicesStatus } from './agents/agent-services.js';
import { CallControl, CallControlError, type CallView } from './call-control.js';
import { configChanges, renderedPromptsFor, type ConfigReload } from './config-reload.js';
import { callRecordOf, CallRecordWriter } from './call-record.js';
import type { CallContext, EngineServices } from './flows/call-context.js';
import { runInboundFlow } from './flows/inbound-flow.js';
import { CallAnchor } from './media/call-anchor.js';
import { MediaTimeouts } from './media-timeouts.js';
import { OutboundTrunks } from './outbound-trunks.js';
import { QueueDirectory } from './queue-directory.js';
import { takeCallerData } from './reserved/caller-data.js';
import { CallRegistry } from './session/call-registry.js';
import { CallSession } from './session/call-session.js';
import { PendingHangUps } from './session/end-reasons.js';
import { callerIdentityOf } from './signaling/caller-identity.js';
import { describeSource, SipFailure, type InboundInvite, type InboundRequest } from './signaling/sip-port.js';
import { dialedNumber } from './signaling/srf-leg.js';
import { SrfSipPort } from './signaling/srf-port.js';
import { sipFailureOf } from './sip-errors.js';
import { LiveCallJournal } from './live-call-journal.js';
import { InboundTrunks, trunkRefOf } from './trunks/inbound-trunks.js';
import type { TrunkCounts } from './trunks/trunk-limits.js';
import { queueOpening } from './voicemail/queue-opening.js';
import { voicemailFallbackTexts } from './voicemail/voicemail-task.js';
import { VoicemailNotices } from './voicemail/voicemail-notices.js';

export interface DrachtioConnection {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

export interface EngineDeps {
  /** The media plane; without it the engine passes SDP through (signaling only). */
  readonly media?: MediaService;
  readonly recordings?: RecordingCapture;
  /** Relative paths of the config (state dir, password files) resolve against this. */
  readonly baseDir?: string;
  readonly now?: () => number;
}

export interface EngineStatus {
  readonly connected: boolean;
  readonly draining: boolean;
  readonly anchored: boolean;
  readonly liveCalls: number;
  readonly callsTotal: number;
  readonly callsConnected: number;
  readonly callsRejected: number;
  /** Call records written to the file. */
  readonly callRecords: number;
  /** Call records a fault kept from the file (a full disk): written once it can be. */
  readonly callRecordsWaiting: number;
  readonly voicemailNotices: number;
  /** Per inbound trunk: live calls, admitted, refused over its rate or concurrency. */
  readonly trunks: Readonly<Record<string, TrunkCounts>>;
  /** Agents by state, the waiting queues' figures and the registrar's (absent without agents). */
  readonly contactCenter?: AgentServicesStatus;
}

/** How long stop() waits for the BYEs of the calls it ended: enough for an answer, or for UDP retransmissions to a phone that is gone. */
const STOP_BYE_WAIT_MS = 4000;

export class Engine {
  private readonly srf = new Srf();
  private readonly port: SrfSipPort;
  readonly calls = new CallRegistry();
  readonly control: CallControl;
  /** Replaced whole by a reload: each call keeps the services it arrived with. */
  private services: EngineServices;
  /** Voicemail notices waiting for their queue to open (and the events of those sent). */
  readonly notices: VoicemailNotices;
  private readonly mediaTimeouts: MediaTimeouts | undefined;
  /** Calls under way, for their records after a crash (with call records on). */
  private readonly journal: LiveCallJournal | undefined;
  private readonly inbound: InboundTrunks;
  /** Agents, waiting queues and the registrar; undefined when no agent or waiting queue is configured. */
  readonly agents: AgentServices | undefined;
  private connected = false;
  private draining = false;
  private callsTotal = 0;
  private callsConnected = 0;
  private callsRejected = 0;
  /** The languages the configuration serves calls in (the caller's Accept-Language is matched against them). */
  private languages: readonly string[];

  constructor(
    private config: SwitchboardConfig,
    private readonly connection: DrachtioConnection,
    private readonly logger: Logger,
    deps: EngineDeps = {},
  ) {
    // A caller left ringing gets its last 18x again every half app timeout, at most every 50 s (RFC 3261 §13.3.1.1
    // wants one a minute; each also restarts the SIP server's app timer, so a long hunt is not cut with 500).
    this.port = new SrfSipPort(this.srf, { provisionalRefreshMs: Math.min(50_000, config.sipServer.timers.appResponseTimeoutMs / 2) });
    const baseDir = deps.baseDir ?? process.cwd();
    const stateDir = resolve(baseDir, config.node.stateDir);
    const recordsFile = config.engine.callRecords.enabled ? resolve(baseDir, config.engine.callRecords.file ?? join(stateDir, 'calls', 'records.jsonl')) : undefined;
    const now = deps.now ?? Date.now;
    this.inbound = new InboundTrunks(config);
    const policy = createPolicy(config);
    this.languages = servedLanguages(config);
    this.notices = new VoicemailNotices({ dir: join(stateDir, 'voicemail'), webhook: config.engine.voicemail.notifyWebhook, logger, now, opening: (queue, language, atMs) => queueOpening(this.services.policy)(queue, language, atMs) });
    this.agents = config.agents.length > 0 || config.queues.some((q) => q.waiting !== undefined) ? new AgentServices({ config, sip: this.port, logger, baseDir, media: deps.media, now }) : undefined;
    this.services = {
      config,
      sip: this.port,
      policy,
      directory: new QueueDirectory(config.queues),
      media: deps.media,
      prompts: deps.media?.prompts,
      recordings: deps.media !== undefined ? deps.recordings : undefined,
      records: new CallRecordWriter(recordsFile, componentLogger(logger, 'call-records')),
      trunks: new OutboundTrunks(config, baseDir),
      notices: this.notices,
      agents: this.agents,
      hangUps: new PendingHangUps(),
      // A queue's static target on a call of ours (hearing a whisper or talking): its hunt rings idle targets first.
      targetBusy: (target) => this.calls.all().some((s) => s.agent === target && (s.state === 'whisper' || s.state === 'connected')),
      now,
    };
    this.control = new CallControl(this.calls, {
      sip: this.port,
      monitorProbeMs: config.api.monitor.probeSeconds * 1000,
      ...(config.crm.ticket.link !== undefined ? { ticketLink: config.crm.ticket.link } : {}),
      mediaOf: (id) => deps.media?.getCallMedia(id),
      occupyDevice: (device) => this.agents?.occupy(device),
      resolveDevice: (device) => {
        const reg = this.agents?.registeredContact(device);
        if (reg !== undefined && reg.contact === undefined) throw new CallControlError('conflict', `${device}: ${reg.id} has no phone registered now`);
        return reg?.contact;
      },
    });
    this.calls.on('state', (s, state) => {
      if (state !== 'connected') return;
      this.callsConnected++;
      metrics.callSetup.observe((now() - s.timeline.marks.arrivedAt) / 1000);
    });
    const contact = { channel: config.crm.channelName, timeZone: config.crm.timeZone };
    if (config.engine.callRecords.enabled) {
      const journal = new LiveCallJournal(join(stateDir, 'calls', 'live'), componentLogger(logger, 'call-records'));
      this.journal = journal;
      this.calls.on('added', (s) => journal.update(callRecordOf(s, contact)));
      // Each step that says where the call went (its queue, the agent connected, a deflection), not the passing whisper.
      this.calls.on('state', (s, state) => {
        if (state !== 'whisper' && state !== 'ended') journal.update(callRecordOf(s, contact));
      });
      // A recording started (its id), reserved data set: what a recovered record must still name.
      this.calls.on('changed', (s) => journal.update(callRecordOf(s, contact)));
      this.calls.on('ended', (s) => {
        this.services.records.write(callRecordOf(s, contact));
        journal.ended(s.id);
      });
    }
    deps.media?.on('calls-lost', (ids) => {
      for (const id of ids) void this.calls.get(id)?.end('media relay lost', 'engine');
    });
    deps.media?.on('media-timeout', (id) => void this.calls.get(id)?.end('media timeout', 'engine'));
    if (deps.media !== undefined) {
      const t = config.media.timeout;
      this.mediaTimeouts = new MediaTimeouts({ calls: this.calls, media: deps.media, seconds: t.seconds, onHoldSeconds: t.onHoldSeconds, oneSideSeconds: t.oneSideSeconds, now, logger });
    }
  }

  /** Connects to the drachtio server; resolves once authenticated. Reconnects by itself afterwards. */
  async start(timeoutMs = 10_000): Promise<void> {
    // Calls a previous run left live when it died get their records first.
    const lost = (await this.journal?.recover()) ?? [];
    for (const r of lost) this.services.records.write(r);
    if (lost.length > 0) this.logger.warn({ calls: lost.map((r) => r.call) }, 'calls left live by an engine that stopped unexpectedly: their records are written now');
    // Their sessions at an external rtpengine go too, in the background: one down now does not hold the start.
    if (lost.length > 0) void this.services.media?.deleteLeftBehind(lost.map((r) => r.call));
    await this.notices.start();
    // The voicemail's default callback prompts, where the configuration has none: rendered now, as
    // every configured prompt was (the media plane's start), so no call waits for a render.
    for (const text of voicemailFallbackTexts(this.config)) await this.services.prompts?.fromSpec({ text }, { language: 'en' });
    this.mediaTimeouts?.start();
    const unknownLimits = this.config.trunks.unknownSourceLimits;
    if (!this.inbound.refuseUnknown && this.config.trunks.inbound.length > 0 && unknownLimits.callsPerSecond === undefined && unknownLimits.concurrentCalls === undefined) {
      this.logger.warn(
        'sources no inbound trunk claims are accepted (untrusted) without limits: they can take the media relay ports and agents your trunks need; set trunks.unknownSourceLimits or trunks.unknownSources: refuse',
      );
    }
    const srf = this.srf;
    // drachtio-srf's typings lack srf.options(); srf.use('options', ...) is the same registration.
    // No Allow or Supported here: the SIP server adds both, from what it and every connected app really serve.
    srf.use('options', (req, res) => this.onOptions(this.port.request(req, res)));
    srf.invite((req, res) => void this.onInvite(this.port.inbound(req, res)));
    const agents = this.agents;
    const registrar = agents?.registrarInUse;
    if (registrar !== undefined) srf.use('register', (req, res) => registrar.handle(this.port.request(req, res)));
    srf.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'drachtio connection error'));
    srf.on('disconnect', () => {
      this.connected = false;
      this.logger.warn('disconnected from drachtio server');
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no drachtio server answered at ${this.connection.host}:${this.connection.port}`)), timeoutMs);
      srf.on('connect', (err: Error | null, hostports: string) => {
        if (err) {
          this.logger.error({ err: err.message }, 'drachtio authentication failed');
          return;
        }
        this.connected = true;
        this.logger.info({ hostports, anchored: this.services.media !== undefined }, 'connected to drachtio server');
        clearTimeout(timer);
        resolve();
      });
      void srf.connect({ host: this.connection.host, port: this.connection.port, secret: this.connection.secret });
    });
    await this.agents?.start();
  }

  /**
   * An OPTIONS outside a dialog is a carrier's or dispatcher's probe of whether
   * this node takes calls: while draining it gets the 503 with Retry-After that
   * INVITEs get, so the node leaves their rotation now rather than after a
   * refused call each (RFC 3261 §11: the answer to OPTIONS is the one an INVITE
   * would get). An OPTIONS inside a dialog (a keep-alive of a live call) still
   * gets 200.
   */
  private onOptions(req: InboundRequest): void {
    const inDialog = /;\s*tag\s*=/i.test(req.headerLines('to')[0] ?? '');
    if (this.draining && !inDialog) req.respond(503, 'Service Unavailable', { 'Retry-After': String(this.config.engine.drain.retryAfterSeconds) });
    else req.respond(200, 'OK', { Accept: 'application/sdp' });
  }

  /**
   * Graceful shutdown, first half: new INVITEs get 503 with Retry-After, live
   * calls go on for up to engine.drain.maxSeconds, then the rest are ended.
   * Resolves, once every call has ended (and handed its recordings over), with
   * the ids of the recordings of the calls that were live when the drain began.
   */
  async drain(maxSeconds = this.config.engine.drain.maxSeconds): Promise<string[]> {
    this.draining = true;
    const drained = this.calls.all();
    if (drained.length > 0) this.logger.info({ live: drained.length, maxSeconds }, 'draining: new calls refused, live calls go on');
    if (!(await this.calls.emptied(maxSeconds * 1000))) {
      this.logger.info({ left: this.calls.size }, 'drain time is up: ending the calls left');
      await Promise.all(this.calls.all().map((s) => s.end('engine draining', 'engine')));
    }
    return drained.flatMap((s) => s.recordingIds);
  }

  async stop(): Promise<void> {
    this.draining = true;
    this.mediaTimeouts?.stop();
    await Promise.all(this.calls.all().map((s) => s.end('engine stopping', 'engine')));
    // The calls' BYEs (of this stop, or of the drain before it) leave before the SIP server closes:
    // answered, or retransmitted for a while (UDP) when a phone is gone.
    await this.services.hangUps.settled(STOP_BYE_WAIT_MS);
    await this.agents?.stop();
    await this.notices.close();
    await this.journal?.close();
    this.services.records.close();
    this.srf.disconnect();
    this.connected = false;
  }

  /**
   * Takes the hours policy and its deflection from an edited configuration (SIGHUP) for the calls
   * that arrive from now on; live calls go on with what they started with. Refused with nothing
   * changed when the file changes anything else (config-reload.ts) or a new message cannot be
   * rendered. `next` has passed every check of a configuration load.
   */
  async reloadConfig(next: SwitchboardConfig): Promise<ConfigReload> {
    const changes = configChanges(this.config, next);
    if (changes.needRestart.length > 0) return { applied: false, reasons: changes.needRestart.map((path) => `${path} changed, which needs a restart`) };
    if (changes.reloadable.length === 0) return { applied: true, changed: [] };
    const prompts = await renderedPromptsFor(this.services.prompts, next).catch((e: unknown) => e as Error);
    if (prompts instanceof Error) return { applied: false, reasons: [prompts.message] };
    this.config = next;
    this.languages = servedLanguages(next);
    this.services = { ...this.services, config: next, policy: createPolicy(next), directory: new QueueDirectory(next.queues), prompts };
    // Held voicemail notices wait for the opening the new hours name (or go now, their queue open).
    this.notices.hoursChanged();
    return { applied: true, changed: changes.reloadable };
  }

  liveCalls(): CallView[] {
    return this.control.list();
  }

  /** Opens the call records file again (SIGHUP, after a rotation by rename). */
  reopenFiles(): void {
    this.services.records.reopen();
  }

  status(): EngineStatus {
    return {
      connected: this.connected,
      draining: this.draining,
      anchored: this.services.media !== undefined,
      liveCalls: this.calls.size,
      callsTotal: this.callsTotal,
      callsConnected: this.callsConnected,
      callsRejected: this.callsRejected,
      callRecords: this.services.records.written,
      callRecordsWaiting: this.services.records.waiting,
      voicemailNotices: this.notices.size,
      trunks: this.inbound.counts(),
      ...(this.agents !== undefined ? { contactCenter: this.agents.status() } : {}),
    };
  }

  private async onInvite(invite: InboundInvite): Promise<void> {
    // RFC 3261 §8.2.3 before anything else: a body we cannot read (the embedded SIP server refuses most already).
    const unreadable = invite.contentRefusal;
    if (unreadable !== undefined) {
      this.logger.info({ callId: invite.callId, status: unreadable.status, reason: unreadable.reason }, 'call refused');
      invite.reject(unreadable.status, unreadable.reason, unreadable.headers);
      return;
    }
    // A supervisor's browser calling in with a monitor ticket is not a call to the contact center.
    if (this.control.takeMonitorCall(invite)) return;
    // A feature code dialled from an agent's phone is not a call for a queue.
    if (!this.draining && this.agents?.featureCode(invite, dialedNumber(invite.uri) ?? '') === true) return;
    this.callsTotal++;
    const a = admit(invite, this.services.directory, { draining: this.draining, retryAfterSeconds: this.config.engine.drain.retryAfterSeconds, defaultLanguage: this.config.deflection.defaultLanguage, languages: this.languages }, this.inbound);
    if (!a.admitted) {
      this.callsRejected++;
      const r = rejectionOf(a);
      this.logger.info({ callId: invite.callId, dialed: a.dialed, trunk: a.trunk?.id ?? null, source: describeSource(invite.source), status: r.status, reason: a.reason }, 'call refused');
      invite.reject(r.status, r.phrase, a.headers);
      return;
    }
    // Who is calling: P-Asserted-Identity counts from a trusted trunk only (RFC 3325 §5, caller-identity.ts).
    const caller = callerIdentityOf((name) => invite.headerLines(name), a.trunk?.trusted === true);
    const session = new CallSession({ callId: invite.callId, caller, dialed: a.dialed, source: invite.source, trunk: trunkRefOf(a.trunk), language: a.language, logger: this.logger, now: this.services.now });
    session.own('trunk call slot', a.release);
    this.calls.add(session);
    invite.cancelled.addEventListener('abort', () => void session.end('caller cancelled', 'caller', invite.cancelled.reason), { once: true });
    const maxTimer = setTimeout(() => void session.end('maximum call duration reached', 'engine'), this.config.engine.maxCallSeconds * 1000);
    session.own('maximum duration timer', () => clearTimeout(maxTimer));
    takeCallerData(session, a.trunk, (name) => invite.headerLines(name), this.config);
    let queue = a.queue;
    const failedQueue = this.config.reservedData.attestation.failedQueue;
    if (session.callerAttestation === 'failed' && failedQueue !== undefined) {
      queue = this.services.directory.byQueueId(failedQueue) ?? queue;
      session.log.info({ dialedQueue: a.queue.id, queue: queue.id }, 'caller failed STIR/SHAKEN validation: routed to the attestation queue');
    }
    session.log.info(
      {
        caller: caller.number ?? 'withheld',
        dialed: a.dialed,
        queue: queue.id,
        source: describeSource(invite.source),
        trusted: session.trunk.trusted,
        reserved: session.reserved.values(),
        attestation: session.callerAttestation ?? null,
      },
      'inbound call',
    );
    try {
      const media = this.services.media?.createCallMedia(session.id, { logger: session.log });
      const anchor = new CallAnchor(media);
      session.own('media', () => anchor.release());
      const ctx: CallContext = { session, invite, anchor, services: this.services, offerForAgent: undefined, callerLeg: undefined, callerSdp: undefined, callerSentSdp: undefined, earlyMedia: false, callerOffers: 0 };
      await runInboundFlow(ctx, queue);
    } catch (e) {
      if (session.ended) {
        // The call was ended from outside (cancel, supervisor, media timeout, drain) while the flow ran: the caller, if
        // still waiting, hears why, whatever the flow stopped on (a hunt whose last ring was cancelled, a relay command
        // on the released media); a draining node's 503 asks the carrier to try another (RFC 3261 §21.5.4).
        if (this.draining) invite.reject(503, 'Service Unavailable', { 'Retry-After': String(this.config.engine.drain.retryAfterSeconds) });
        else invite.reject(480, 'Temporarily Unavailable');
      } else {
        const f = sipFailureOf(e);
        // An unexpected error is a bug (its stack); a failure the flow chose (a gateway refusing our credentials) says its reason.
        if (f.status === 500 && !(e instanceof SipFailure)) session.log.error({ err: e instanceof Error ? e.stack : String(e) }, 'call failed');
        else if (f.status >= 500 && !invite.finalResponseSent && !session.ended) session.log.warn({ status: f.status, reason: f.reason }, 'call refused');
        // A call already answered (or already ended) is not refused: the flow only stopped.
        else if (invite.finalResponseSent || session.ended) session.log.info({ reason: f.reason }, 'call flow stopped');
        else session.log.info({ status: f.status, reason: f.reason }, 'call refused');
        if (!invite.finalResponseSent) this.callsRejected++;
        invite.reject(f.status, f.reason, f.headers);
        await session.end(f.reason, 'engine');
      }
    }
    await session.end('call flow finished', 'engine');
  }
}
