/**
 * The one gate every request passes (see route-table.ts): who is asking
 * (401 without a valid key), whether the role allows the route (403), and for
 * a route on one call whether the call is one of the user's teams (404 for no
 * such live call, 403 for another team's), and for a route on one agent
 * whether it is the user's own or one of the user's teams with the route's
 * permission (404 for no such agent, 403 otherwise). Denials and failed actions are
 * audited here; successful actions by the routes, with `record`.
 */
import type { FastifyRequest } from 'fastify';
import { ErrorCodes } from '../../errors.js';
import type { AgentSource } from '../agents/agent-source.js';
import type { AuditInput, AuditLog } from '../audit/audit-log.js';
import { DenialThrottle, type SuppressedDenials } from '../audit/denial-throttle.js';
import { badRequest, forbidden, notFound, unauthorized, type ErrorBody } from '../api-errors.js';
import type { RouteSpec } from '../route-table.js';
import type { LiveCalls } from '../views/live-calls.js';
import type { KeyStore } from './key-store.js';
import { coversAnyTeam, coversTeam, type Principal } from './roles.js';

export class Guard {
  private readonly principals = new WeakMap<FastifyRequest, Principal>();
  /** The client address of each request, from its start (see check). */
  private readonly addresses = new WeakMap<FastifyRequest, string | undefined>();
  /** The key id a refused key claimed, for the audit. */
  private readonly claimedKeys = new WeakMap<FastifyRequest, string>();
  /** The monitor a failed request was about (noteMonitor). */
  private readonly notedMonitors = new WeakMap<FastifyRequest, string>();
  /** The device a failed monitor request named (noteDevice). */
  private readonly notedDevices = new WeakMap<FastifyRequest, string>();
  private readonly unauthenticated: DenialThrottle;

  constructor(
    private readonly keys: KeyStore,
    private readonly live: LiveCalls,
    private readonly audit: AuditLog,
    private readonly agents: AgentSource,
    now: () => number = Date.now,
  ) {
    this.unauthenticated = new DenialThrottle({ now });
  }

  private specOf(request: FastifyRequest): RouteSpec | undefined {
    return request.routeOptions.config.spec;
  }

  /** onRequest: authentication and permission. */
  check(request: FastifyRequest): void {
    // Noted now: a client that drops the connection midway leaves no address to read when the audit is written.
    this.addresses.set(request, request.ip);
    const spec = this.specOf(request);
    if (spec === undefined || spec.access === 'public') return;
    // RFC 9110 §11.6.2: Authorization is one credential, not a list; Node keeps the first of several, which
    // would let an intermediary's header and the client's disagree unseen.
    if (request.raw.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length > 1) {
      throw badRequest('more than one Authorization header field: send one credential');
    }
    const auth = this.keys.authenticate(request.headers.authorization);
    if (!auth.ok) {
      if (auth.keyId !== undefined) this.claimedKeys.set(request, auth.keyId);
      throw unauthorized(auth.reason);
    }
    this.principals.set(request, auth.principal);
    if (spec.access !== 'authenticated' && !auth.principal.permissions.has(spec.access)) {
      throw forbidden(`the role ${auth.principal.role} lacks the ${spec.access} permission`);
    }
  }

  /**
   * preHandler, agent-scoped routes: the agent exists, and it is the user's
   * own, or the role has the route's permission and covers one of its teams.
   */
  checkAgent(request: FastifyRequest): void {
    const spec = this.specOf(request);
    const needed = spec?.agentScoped;
    if (needed === undefined) return;
    const id = (request.params as { id: string }).id;
    const p = this.principal(request);
    const agent = this.agents.get(id);
    if (agent === undefined) throw notFound(`no agent ${id}`);
    if (agent.kind === 'agent' && agent.id === p.user) return;
    if (!p.permissions.has(needed)) throw forbidden(`${id} is not your own agent, and the role ${p.role} lacks the ${needed} permission`);
    if (!coversAnyTeam(p, agent.teams)) {
      throw forbidden(`agent ${id} belongs to ${agent.teams.length === 0 ? 'no team' : `team ${agent.teams.join(', ')}`}; the role ${p.role} covers only the teams ${[...p.teams].join(', ') || '(none)'}`);
    }
  }

  /** preHandler: the call of a call-scoped route exists and is one of the user's teams. */
  checkCall(request: FastifyRequest): void {
    this.checkAgent(request);
    const spec = this.specOf(request);
    if (spec?.callScoped !== true) return;
    const id = (request.params as { id: string }).id;
    const session = this.live.control.session(id);
    const team = this.live.teamOf(session.queue ?? null);
    const p = this.principal(request);
    if (!coversTeam(p, team)) {
      throw forbidden(`call ${id} belongs to ${team === null ? 'no team' : `team ${team}`}; the role ${p.role} covers only the teams ${[...p.teams].join(', ') || '(none)'}`);
    }
  }

  /** The authenticated user of a non-public route. */
  principal(request: FastifyRequest): Principal {
    const p = this.principals.get(request);
    if (p === undefined) throw unauthorized('not authenticated');
    return p;
  }

  private context(request: FastifyRequest): Pick<AuditInput, 'user' | 'role' | 'keyId' | 'from' | 'request'> {
    const p = this.principals.get(request);
    const ua = request.headers['user-agent'];
    return {
      user: p?.user ?? null,
      role: p?.role ?? null,
      keyId: p?.keyId ?? this.claimedKeys.get(request) ?? null,
      from: { address: this.addressOf(request), userAgent: typeof ua === 'string' ? ua.slice(0, 200) : null },
      request: { method: request.method, path: request.url.split('?')[0]!.slice(0, 300) },
    };
  }

  private addressOf(request: FastifyRequest): string {
    return this.addresses.get(request) ?? request.ip ?? 'unknown';
  }

  private readonly reportSuppressed = (s: SuppressedDenials): void => {
    this.audit.record({
      action: 'request',
      outcome: 'denied',
      from: { address: s.address, userAgent: null },
      reason: `${s.count} more unauthenticated request${s.count === 1 ? '' : 's'} refused from ${s.address === '*' ? 'other addresses' : 'this address'} between ${new Date(s.from).toISOString()} and ${new Date(s.to).toISOString()}, not audited one by one`,
      status: 401,
      code: ErrorCodes.API_UNAUTHORIZED,
    });
  };

  /** Writes the counts of unauthenticated denials not audited one by one, once their window is over (or now, with `force`). */
  reportSuppressedDenials(force = false): void {
    this.unauthenticated.roll(this.reportSuppressed, force);
  }

  /** Audits a successful action of `request`. */
  record(request: FastifyRequest, input: AuditInput): void {
    this.audit.record({ ...this.context(request), ...input });
  }

  /** The monitor a failed request was about, when its URL does not name it (a monitor that failed to start). */
  noteMonitor(request: FastifyRequest, monitorId: string): void {
    this.notedMonitors.set(request, monitorId);
  }

  /** The device a monitor request is for: in its audit entry when it fails or is denied too. */
  noteDevice(request: FastifyRequest, device: string): void {
    this.notedDevices.set(request, device.slice(0, 300));
  }

  /** Audits an error answer: every denial, and failures of audited actions. */
  auditError(request: FastifyRequest, body: ErrorBody): void {
    const spec = this.specOf(request);
    const denied = body.statusCode === 401 || body.statusCode === 403;
    if (!denied && spec?.audit === undefined) return;
    if (body.statusCode === 401 && !this.unauthenticated.admit(this.addressOf(request), this.reportSuppressed)) return;
    const params = request.params as { id?: unknown; monitorId?: unknown } | undefined;
    const agentRoute = spec?.agentScoped !== undefined;
    this.audit.record({
      ...this.context(request),
      action: spec?.audit ?? 'request',
      outcome: denied ? 'denied' : 'failed',
      call: typeof params?.id === 'string' && !agentRoute ? params.id.slice(0, 64) : null,
      agent: typeof params?.id === 'string' && agentRoute ? params.id.slice(0, 200) : null,
      monitor: this.notedMonitors.get(request) ?? (typeof params?.monitorId === 'string' ? params.monitorId.slice(0, 32) : null),
      device: this.notedDevices.get(request) ?? null,
      reason: body.reason,
      status: body.statusCode,
      code: body.code,
    });
  }
}
