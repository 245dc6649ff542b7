/**
 * Silent monitoring: start (the engine calls the supervisor's device and
 * answers once it listens), list, stop. Stopping someone else's monitor needs
 * monitor-edit. Stops by the device or the call's end are audited as `system`
 * (the API listens to the call control's monitor events).
 */
import { Type } from '@sinclair/typebox';
import type { MonitorEvent } from '../../engine/call-control.js';
import type { ApiApp, ApiContext } from '../api-context.js';
import { badRequest, forbidden } from '../api-errors.js';
import { routeSpec } from '../route-table.js';
import { CallIdParams, errorResponses, MonitorParams, MonitorRequestBody, MonitorSchema } from '../schemas.js';

export function registerMonitorRoutes(app: ApiApp, ctx: ApiContext): void {
  const ringTimeoutMs = ctx.config.api.monitor.ringTimeoutSeconds * 1000;
  const audited = (e: MonitorEvent): void => {
    // Only monitors that listened: one that never got through is audited as the failed request that asked for it.
    if (e.change === 'stopped' && e.monitor.state === 'listening' && (e.by === 'device' || e.by === 'engine')) {
      ctx.audit.record({ action: 'monitor.stop', outcome: 'ok', user: 'system', call: e.call.id, monitor: e.monitor.id, device: e.monitor.device, reason: `${e.reason ?? 'stopped'} (monitor of ${e.monitor.user})` });
    }
  };
  ctx.live.control.on('monitor', audited);
  app.addHook('onClose', (_app, done) => {
    ctx.live.control.off('monitor', audited);
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
          "Answers 201 once the device answered (it hears caller and agent mixed from then on), 502 when the device does not answer (busy, declined, no answer within api.monitor.ringTimeoutSeconds), 409 when the call is not connected or ends meanwhile. Several supervisors share one subscription; nothing changes on the caller's or agent's legs.",
        tags: ['monitoring'],
        params: CallIdParams,
        body: MonitorRequestBody,
        response: { 201: MonitorSchema, ...errorResponses(400, 401, 403, 404, 409, 502) },
      },
    },
    async (request, reply) => {
      const p = ctx.guard.principal(request);
      const device = request.body.device ?? p.device;
      if (device === undefined) throw badRequest('no device: give "device" (a SIP URI), or store one with the key (switchboard keys add --device)');
      const monitor = await ctx.live.control.monitor(request.params.id, { user: p.user, device, ringTimeoutMs });
      ctx.guard.record(request, { action: 'monitor.start', outcome: 'ok', call: request.params.id, monitor: monitor.id, device, status: 201 });
      return reply.code(201).send(monitor);
    },
  );

  const stop = routeSpec('DELETE /calls/:id/monitors/:monitorId');
  app.delete(
    stop.url,
    { config: { spec: stop }, schema: { summary: stop.summary, tags: ['monitoring'], params: MonitorParams, response: { 200: MonitorSchema, ...errorResponses(400, 401, 403, 404) } } },
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
