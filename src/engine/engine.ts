/**
 * The engine: a drachtio-srf application that takes inbound calls, selects a
 * queue from the dialed number and hunts the queue's agents (issue: signaling
 * substrate). It connects to a drachtio server (the embedded one by default,
 * or a real drachtio-server) by host, port and secret only.
 */
import type { SwitchboardConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import { CallSession, type CallSnapshot } from './call-session.js';
import { QueueDirectory } from './queue-directory.js';
import { reject } from './sip-errors.js';
import { dialedNumber, Srf, type SrfRequest, type SrfResponse } from './srf.js';
import { DialAgentsTask } from './tasks/dial-agents-task.js';

export interface DrachtioConnection {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

export interface EngineStatus {
  readonly connected: boolean;
  readonly liveCalls: number;
  readonly callsTotal: number;
  readonly callsConnected: number;
  readonly callsRejected: number;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE';

export class Engine {
  private readonly srf = new Srf();
  private readonly directory: QueueDirectory;
  private readonly sessions = new Map<string, CallSession>();
  private connected = false;
  private stopping = false;
  private callsTotal = 0;
  private callsConnected = 0;
  private callsRejected = 0;

  constructor(
    private readonly config: SwitchboardConfig,
    private readonly connection: DrachtioConnection,
    private readonly logger: Logger,
  ) {
    this.directory = new QueueDirectory(config.queues);
  }

  /** Connects to the drachtio server; resolves once authenticated. Reconnects by itself afterwards. */
  async start(timeoutMs = 10_000): Promise<void> {
    const srf = this.srf;
    // drachtio-srf's typings lack srf.options(); srf.use('options', ...) is the same registration.
    srf.use('options', (_req: SrfRequest, res: SrfResponse) => res.send(200, { headers: { Allow: ALLOW, Accept: 'application/sdp' } }));
    srf.invite((req: SrfRequest, res: SrfResponse) => void this.onInvite(req, res));
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
        this.logger.info({ hostports }, 'connected to drachtio server');
        clearTimeout(timer);
        resolve();
      });
      void srf.connect({ host: this.connection.host, port: this.connection.port, secret: this.connection.secret });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.sessions.values()].map((s) => s.end('engine stopping')));
    this.srf.disconnect();
    this.connected = false;
  }

  status(): EngineStatus {
    return {
      connected: this.connected,
      liveCalls: this.sessions.size,
      callsTotal: this.callsTotal,
      callsConnected: this.callsConnected,
      callsRejected: this.callsRejected,
    };
  }

  liveCalls(): CallSnapshot[] {
    return [...this.sessions.values()].map((s) => s.snapshot());
  }

  private async onInvite(req: SrfRequest, res: SrfResponse): Promise<void> {
    this.callsTotal++;
    const callId = req.get('Call-ID');
    if (this.stopping) {
      this.callsRejected++;
      reject(res, 'SHUTTING_DOWN', { 'Retry-After': '10' });
      return;
    }
    // A B2BUA carries Max-Forwards on, one less, so a loop through proxies and us still ends.
    const maxForwards = Number(req.get('Max-Forwards') ?? '70');
    if (Number.isFinite(maxForwards) && maxForwards <= 0) {
      this.callsRejected++;
      reject(res, 'TOO_MANY_HOPS');
      return;
    }
    const dialed = dialedNumber(req.uri) ?? '';
    const queue = this.directory.forNumber(dialed);
    if (queue === undefined) {
      this.callsRejected++;
      this.logger.info({ callId, dialed }, 'no queue for dialed number');
      reject(res, 'UNKNOWN_NUMBER');
      return;
    }
    const session = new CallSession(callId, req.callingNumber ?? '', dialed, queue, this.logger);
    this.sessions.set(session.id, session);
    session.own('call registry', () => {
      this.sessions.delete(session.id);
    });
    const maxMs = this.config.engine.maxCallSeconds * 1000;
    const maxTimer = setTimeout(() => void session.end('maximum call duration reached'), maxMs);
    session.own('maximum duration timer', () => clearTimeout(maxTimer));
    session.log.info({ caller: session.caller, dialed }, 'inbound call');
    try {
      const agents = queue.agents ?? [];
      const ringSeconds = queue.ringTimeoutSeconds ?? this.config.engine.ringTimeoutSeconds;
      const outcome = await new DialAgentsTask(this.srf, session, req, res, {
        agents,
        ringTimeoutMs: ringSeconds * 1000,
        headers: {
          'X-Switchboard-Call': session.id,
          'X-Switchboard-Queue': queue.id,
          'Max-Forwards': String(Number.isFinite(maxForwards) ? Math.min(70, maxForwards - 1) : 70),
        },
      }).run();
      if (outcome === 'connected') metrics.callSetup.observe((Date.now() - session.startedAt.getTime()) / 1000);
      if (outcome === 'connected') this.callsConnected++;
      else {
        if (outcome === 'no-agent') this.callsRejected++;
        await session.end(outcome);
      }
    } catch (e) {
      session.log.error({ err: e instanceof Error ? e.stack : String(e) }, 'call failed');
      reject(res, 'INTERNAL');
      await session.end('internal error');
    }
  }
}
