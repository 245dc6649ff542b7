/**
 * GET /events: Server-Sent Events (WHATWG HTML §9.2) for dashboards. First a
 * `snapshot` (the calls and agents the user may see), then `call.added`,
 * `call.updated`, `call.ended`, `call.removed` and `agent.updated` as they happen, each with
 * an increasing `id`, and a comment every 15 s (or half `api.idleTimeoutSeconds`,
 * when shorter) so proxies and our own idle timeout keep the stream open. A
 * client that cannot keep up (over 1 MB unsent) is disconnected rather than
 * buffered without bound; it reconnects and gets a new snapshot. A stream
 * whose key is revoked, or whose role or teams change, is closed at the
 * keys' reload: it was allowed by what the key was. HEAD gets the header
 * section alone (RFC 9110 §9.3.2), without subscribing.
 */
import { Type } from '@sinclair/typebox';
import type { ApiApp, ApiContext } from '../api-context.js';
import type { Principal } from '../auth/roles.js';
import type { LiveEvent } from '../events/live-events.js';
import { routeSpec } from '../route-table.js';
import { errorResponses } from '../schemas.js';

const HEARTBEAT_MS = 15_000;
const MAX_UNSENT_BYTES = 1024 * 1024;

export function registerEventsRoute(app: ApiApp, ctx: ApiContext, idleTimeoutMs: number): void {
  const spec = routeSpec('GET /events');
  const heartbeatMs = Math.min(HEARTBEAT_MS, Math.floor(idleTimeoutMs / 2));
  /** Each open stream's close, with what its key allowed when it opened. */
  const open = new Map<() => void, { readonly keyId: string; readonly allowed: string | undefined }>();
  const allowed = (p: Principal | undefined): string | undefined =>
    p === undefined ? undefined : JSON.stringify([p.user, p.role, p.scope, [...p.permissions].sort(), [...p.teams].sort()]);
  const unsubscribeKeys = ctx.keys.onChange(() => {
    for (const [close, was] of [...open]) if (allowed(ctx.keys.current(was.keyId)) !== was.allowed) close();
  });
  app.addHook('preClose', (done) => {
    unsubscribeKeys();
    for (const close of [...open.keys()]) close();
    done();
  });
  app.get(
    spec.url,
    {
      config: { spec },
      schema: {
        summary: spec.summary,
        description: 'text/event-stream. Events: snapshot {calls, agents}; call.added, call.updated {type, call: CallSummary}; call.ended {type, call: {id, team, endReason, endedBy, endedByUser}}; call.removed {type, call: {id, team}} (the call left the teams the user sees); agent.updated {type, agent: Agent}.',
        tags: ['calls'],
        response: { 200: { content: { 'text/event-stream': { schema: Type.String({ description: 'An event stream.' }) } } }, ...errorResponses(401, 403) },
      },
    },
    (request, reply) => {
      const principal = ctx.guard.principal(request);
      if (request.method === 'HEAD') {
        void reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-store').send('');
        return;
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let seq = 0;
      let closed = false;
      const write = (text: string): void => {
        if (closed) return;
        raw.write(text);
        if (raw.writableLength > MAX_UNSENT_BYTES) close();
      };
      const send = (event: string, data: unknown): void => write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), heartbeatMs);
      const subscriber = { principal, send: (e: LiveEvent) => send(e.type, e) };
      const unsubscribe = ctx.events.subscribe(subscriber);
      const close = (): void => {
        if (closed) return;
        closed = true;
        open.delete(close);
        clearInterval(heartbeat);
        unsubscribe();
        raw.end();
      };
      open.set(close, { keyId: principal.keyId, allowed: allowed(principal) });
      raw.on('close', close);
      write('retry: 2000\n\n');
      send('snapshot', ctx.events.snapshot(principal, subscriber));
    },
  );
}
