/**
 * Silent monitoring: start (the engine calls the supervisor's device and
 * answers once it listens), list, stop. Stopping someone else's monitor needs
 * monitor-edit. Stops by the device or the call's end are audited as `system`
 * (the API listens to the call control's monitor events).
 *
 * In the browser (the web console) the page is not called: it asks for a
 * one-time ticket and calls in over SIP WebSocket (src/engine/monitor-tickets.ts
 * says why). The ticket is checked again when it is used: the key must still
 * exist and still allow monitoring this call; the call-in is audited as the
 * user's monitor.start, from the browser's address.
 *
 * A monitor lasts only while the key that started it allows it: revoking the
 * key, or taking the monitor permission or the call's team from it, stops the
 * monitor at once (MonitorOwners).
 */
import { Type } from '@sinclair/typebox';
import type { SwitchboardConfig } from '../../config/load.js';
import type { MonitorEvent, TicketSource, TicketUse } from '../../engine/call-control.js';
import { parseSipAddress, unreachableAddress } from '../../engine/registrar/contact-list.js';
import { MonitorDeviceError } from '../../engine/tasks/monitor-task.js';
import type { ApiApp, ApiContext } from '../api-context.js';
import { badRequest, conflict, forbidden } from '../api-errors.js';
import { coversTeam, type Principal } from '../auth/roles.js';
import { sipWebSocketUrl, ticketUri } from '../console/sip-websocket.js';
import { routeSpec } from '../route-table.js';
import { CallIdParams, EmptyBody, errorResponses, MonitorParams, MonitorRequestBody, MonitorSchema, MonitorTicketSchema, StoppedMonitorSchema } from '../schemas.js';

export function registerMonitorRoutes(app: ApiApp, ctx: ApiContext): void {
  const ringTimeoutMs = ctx.config.api.monitor.ringTimeoutSeconds * 1000;
  const owners = new MonitorOwners(ctx);
  const audited = (e: MonitorEvent): void => {
    if (e.change === 'stopped') owners.forget(e.monitor.id);
    // Only monitors that listened: one that never got through is audited as the failed request that asked for it.
    if (e.change === 'stopped' && e.monitor.state === 'listening' && (e.by === 'device' || e.by === 'engine')) {
      ctx.audit.record({ action: 'monitor.stop', outcome: 'ok', user: 'system', call: e.call.id, monitor: e.monitor.id, device: e.monitor.device, reason: `${e.reason ?? 'stopped'} (monitor of ${e.monitor.user})` });
    }
  };
  ctx.live.control.on('monitor', audited);
  // A browser calling a ticket URI that no ticket has (a guess): nobody to name, but every denied request is audited.
  const guessed = (source: TicketSource): void => {
    ctx.audit.record({ action: 'monitor.start', outcome: 'denied', user: null, from: { address: source.address, userAgent: source.userAgent }, request: { method: 'INVITE', path: `sip (${source.transport})` }, reason: 'no such monitor ticket', status: 404 });
  };
  ctx.live.control.on('unknown-ticket', guessed);
  const unwatchKeys = ctx.keys.onChange(() => owners.recheck());
  app.addHook('onClose', (_app, done) => {
    ctx.live.control.off('monitor', audited);
    ctx.live.control.off('unknown-ticket', guessed);
    unwatchKeys();
    done();
  });

  const list = routeSpec('GET /calls/:id/monitors');
  app.get(
    list.url,
    { config: { spec: list }, schema: { summary: list.summary, tags: ['monitoring'], params: CallIdParams, response: { 200: Type.Object({ monitors: Type.Array(MonitorSchema) }), ...errorResponses(400, 401, 403, 404) } } },
    async (request) => ({ monitors: [...ctx.live.control.get(request.params.id).monitors] }),
  );

  const start = routeSpec('POST /calls/:id/monitors');
  app.post(
    start.url,
    {
      config: { spec: start },
      // No body at all means "my own device": validate it as an empty object.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: {
        summary: start.summary,
        description:
          "Answers 201 once the device answered (it hears caller and agent mixed from then on), 502 when the device does not answer (busy, declined, no answer within api.monitor.ringTimeoutSeconds), 409 when the call is not connected, ends meanwhile, or the monitor is stopped (DELETE, a revoked key) while the device rings. 400 for a device URI no request can be sent to (port 0, a port past 65535, an impossible IPv4 address, a transport the SIP server has no listener for: sips: needs TLS; URI headers). 403 for a device other than the one stored with the key (switchboard keys add --device), and for a device that is an outbound trunk's gateway (its host and port: that would be a call through the carrier). Several supervisors share one subscription; nothing changes on the caller's or agent's legs.",
        tags: ['monitoring'],
        params: CallIdParams,
        body: MonitorRequestBody,
        response: { 201: MonitorSchema, ...errorResponses(400, 401, 403, 404, 409, 502) },
      },
    },
    async (request, reply) => {
      const p = ctx.guard.principal(request);
      const device = request.body.device ?? p.device;
      // Named in the audit entry whatever the outcome (a refused gateway, a device that did not answer).
      if (device !== undefined) ctx.guard.noteDevice(request, device);
      // A key stored with its device monitors on that device only: a key is not a way to call anywhere.
      if (request.body.device !== undefined && p.device !== undefined && request.body.device !== p.device) {
        throw forbidden(`${p.user}'s key monitors on its own device (${p.device}) only; leave "device" out, or have an admin store another one with the key`);
      }
      if (device === undefined) throw badRequest('no device: give "device" (a SIP URI), or store one with the key (switchboard keys add --device)');
      const wrong = deviceProblem(device, ctx.sipTransports);
      if (wrong !== undefined) throw badRequest(`device ${device}: ${wrong}`);
      const gateway = gatewayOf(device, ctx.config.trunks.outbound);
      if (gateway !== undefined) throw forbidden(`device ${device} is outbound trunk ${gateway}'s gateway: a monitor is not a way to place calls through a carrier`);
      const monitor = await ctx.live.control.monitor(request.params.id, { user: p.user, device, ringTimeoutMs }).catch((e: unknown) => {
        // Its failed start is audited under the monitor id it was listed with while the device rang.
        if (e instanceof MonitorDeviceError && e.monitorId !== undefined) ctx.guard.noteMonitor(request, e.monitorId);
        throw e;
      });
      // The key may have been revoked (or its role changed) while the device rang.
      const withdrawn = await owners.own(monitor.id, request.params.id, p);
      if (withdrawn !== undefined) throw forbidden(`${withdrawn}: the monitor was stopped`);
      ctx.guard.record(request, { action: 'monitor.start', outcome: 'ok', call: request.params.id, monitor: monitor.id, device, status: 201 });
      return reply.code(201).send(monitor);
    },
  );

  const ticket = routeSpec('POST /calls/:id/monitor-tickets');
  app.post(
    ticket.url,
    {
      config: { spec: ticket },
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: {
        summary: ticket.summary,
        description:
          "For the web console: the page sends an INVITE to `uri` through the SIP WebSocket server `webSocket` (RFC 7118) before `expiresAt`; the engine answers it with both parties mixed (WebRTC: ICE, DTLS-SRTP). The ticket works once, and only while the key still allows monitoring the call. The 200 carries the monitor's id in `X-Switchboard-Monitor`; stop it with DELETE /calls/{id}/monitors/{monitorId} or a BYE. 409 when the call is not connected or this deployment has no SIP WebSocket server (api.console.sipWebSocketUrl).",
        tags: ['monitoring'],
        params: CallIdParams,
        body: EmptyBody,
        response: { 201: MonitorTicketSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const p = ctx.guard.principal(request);
      const id = request.params.id;
      const webSocket = sipWebSocketUrl(ctx.config.api.console.sipWebSocketUrl, ctx.sipWebSockets, request.hostname);
      if (webSocket === undefined) throw conflict('no SIP WebSocket server for browsers: add a ws or wss listener to sipServer.listen, or set api.console.sipWebSocketUrl');
      const from = { address: request.ip ?? 'unknown', userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'].slice(0, 200) : null };
      const issued = ctx.live.control.issueMonitorTicket(id, {
        user: p.user,
        ttlMs: ctx.config.api.monitor.ticketSeconds * 1000,
        authorize: () => stillAllowed(ctx, p, id),
        onUse: (use) => {
          auditUse(ctx, p, id, use);
          if (use.ok) void owners.own(use.monitor.id, id, p);
        },
      });
      ctx.guard.record(request, { action: 'monitor.ticket', outcome: 'ok', call: id, status: 201, reason: `browser ${from.address}` });
      return reply.code(201).send({ call: id, uri: ticketUri(issued.token, webSocket), webSocket, expiresAt: new Date(issued.expiresAt).toISOString() });
    },
  );

  const stop = routeSpec('DELETE /calls/:id/monitors/:monitorId');
  app.delete(
    stop.url,
    { config: { spec: stop }, schema: { summary: stop.summary, tags: ['monitoring'], params: MonitorParams, response: { 200: StoppedMonitorSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => {
      const p = ctx.guard.principal(request);
      const { id, monitorId } = request.params;
      const current = ctx.live.control.monitorOf(id, monitorId);
      if (current.user !== p.user && !p.permissions.has('monitor-edit')) throw forbidden(`monitor ${monitorId} is ${current.user}'s; stopping another supervisor's monitor needs monitor-edit`);
      const stopped = await ctx.live.control.stopMonitor(id, monitorId, p.user);
      ctx.guard.record(request, { action: 'monitor.stop', outcome: 'ok', call: id, monitor: monitorId, device: stopped.device, reason: current.user === p.user ? null : `monitor of ${current.user}`, status: 200 });
      return stopped;
    },
  );
}

/**
 * The monitors started through the API and the key each was started with:
 * when the keys change (a key revoked, its role or teams changed: the keys
 * file re-read), a monitor whose key no longer allows listening to its call
 * is stopped at once, as a DELETE would (the device gets its BYE), and audited
 * as a system monitor.stop saying why.
 */
class MonitorOwners {
  private readonly owners = new Map<string, { readonly call: string; readonly principal: Principal }>();

  constructor(private readonly ctx: ApiContext) {}

  /** Remembers who started `monitorId`; stops it at once if that key no longer allows it, and says why. */
  async own(monitorId: string, call: string, principal: Principal): Promise<string | undefined> {
    this.owners.set(monitorId, { call, principal });
    return this.check(monitorId);
  }

  forget(monitorId: string): void {
    this.owners.delete(monitorId);
  }

  recheck(): void {
    for (const id of [...this.owners.keys()]) void this.check(id);
  }

  private async check(monitorId: string): Promise<string | undefined> {
    const o = this.owners.get(monitorId);
    if (o === undefined) return undefined;
    const denied = stillAllowed(this.ctx, o.principal, o.call);
    if (denied === undefined) return undefined;
    this.owners.delete(monitorId);
    await this.ctx.live.control.stopMonitor(o.call, monitorId, 'engine', `access withdrawn: ${denied}`).catch(() => undefined);
    return denied;
  }
}

/** Whether the key that asked for a ticket may still monitor call `id` (undefined), or why not. */
function stillAllowed(ctx: ApiContext, asked: Principal, id: string): string | undefined {
  const now = ctx.keys.current(asked.keyId);
  if (now === undefined) return `the key ${asked.keyId} of ${asked.user} is revoked`;
  if (!now.permissions.has('monitor')) return `the role ${now.role} lacks the monitor permission`;
  let team: string | null;
  try {
    team = ctx.live.teamOf(ctx.live.control.session(id).queue ?? null);
  } catch {
    return undefined; // the call ended: the engine answers that itself (410)
  }
  return coversTeam(now, team) ? undefined : `call ${id} belongs to ${team === null ? 'no team' : `team ${team}`}, outside ${now.user}'s teams`;
}

/** The browser called in with the ticket: the user's monitor.start, from where the INVITE came. */
function auditUse(ctx: ApiContext, p: Principal, id: string, use: TicketUse): void {
  const common = { action: 'monitor.start' as const, user: p.user, role: p.role, keyId: p.keyId, from: { address: use.source.address, userAgent: use.source.userAgent }, request: { method: 'INVITE', path: `sip (${use.source.transport})` }, call: id };
  if (use.ok) ctx.audit.record({ ...common, outcome: 'ok', monitor: use.monitor.id, device: use.monitor.device, status: 200 });
  else ctx.audit.record({ ...common, outcome: use.status === 403 || use.status === 404 ? 'denied' : 'failed', reason: use.reason, status: use.status });
}

/**
 * What makes a device URI one no request can be sent to (RFC 3261 §19.1.1), or undefined. `transports`: the SIP
 * server's; a device that needs another (a sips: URI needs TLS, RFC 3261 §26.2.2; a transport parameter names its
 * own) cannot be reached from here.
 */
function deviceProblem(device: string, transports: readonly string[] | undefined): string | undefined {
  const at = parseSipAddress(device);
  if (at === undefined) return 'not a SIP URI (sip:user@host:port)';
  if (device.includes('?')) return 'URI headers (?...) are not allowed in a request target (RFC 3261 §19.1.1)';
  const named = at.params.get('transport');
  const needs = at.scheme === 'sips' ? (named === 'ws' || named === 'wss' ? 'wss' : 'tls') : named;
  if (needs !== undefined && transports !== undefined && !transports.includes(needs)) {
    return `it needs ${needs.toUpperCase()} and the SIP server has no ${needs} listener (sipServer.listen: ${transports.join(', ') || 'none'})`;
  }
  return unreachableAddress(device);
}

/** The id of the outbound trunk whose gateway `device` is (same host and port), if any. */
function gatewayOf(device: string, outbound: SwitchboardConfig['trunks']['outbound']): string | undefined {
  const at = parseSipAddress(device);
  if (at === undefined) return undefined;
  const port = at.port ?? (at.scheme === 'sips' ? 5061 : 5060);
  const bare = (h: string): string => h.toLowerCase().replace(/^\[|\]$/g, '');
  return outbound.find((t) => bare(t.host) === bare(at.host) && t.port === port)?.id;
}
