/**
 * GET / and GET /console/{file}: the supervisors' web console (web/). Public
 * files; everything the page shows comes from the API with the user's key, so
 * the server enforces every permission whatever the page does.
 *
 * Every answer carries a Content-Security-Policy that allows only this
 * origin's scripts and styles and connections to this API and the SIP
 * WebSocket server (the page plays WebRTC media, which CSP does not govern),
 * forbids framing (the End Call button must not be clickjacked) and sends no
 * referrer; the page never asks for the microphone, and Permissions-Policy
 * says so.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ApiApp, ApiContext } from '../api-context.js';
import { loadConsoleFiles, type ConsoleFile } from '../console/console-files.js';
import { sipWebSocketUrl } from '../console/sip-websocket.js';
import { routeSpec } from '../route-table.js';

export function registerConsoleRoutes(app: ApiApp, ctx: ApiContext, logger: Logger): void {
  const files = loadConsoleFiles();
  if (files === undefined) logger.warn('the web console is not built (npm run build): / answers 503');

  const send = (request: FastifyRequest, reply: FastifyReply, name: string): FastifyReply => {
    if (files === undefined) {
      return reply.code(503).type('application/json').send({ statusCode: 503, code: ErrorCodes.API_CONSOLE_UNAVAILABLE, reason: 'the web console is not built: run npm run build' });
    }
    const file: ConsoleFile | undefined = files.get(name);
    if (file === undefined) return reply.code(404).type('application/json').send({ statusCode: 404, code: ErrorCodes.NOT_FOUND, reason: `no console file ${name}` });
    const ws = sipWebSocketUrl(ctx.config.api.console.sipWebSocketUrl, ctx.sipWebSockets, request.hostname);
    const sipOrigin = ws === undefined ? '' : ` ${new URL(ws).origin}`;
    // A strong ETag names one representation (RFC 9110 §8.8.3): the gzip one gets its own.
    const gzip = /\bgzip\b/i.test(request.headers['accept-encoding'] ?? '');
    const etag = gzip ? file.etag.replace(/"$/, '-gz"') : file.etag;
    void reply.headers({
      'content-type': file.type,
      etag,
      vary: 'accept-encoding',
      'cache-control': 'no-cache',
      'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'${sipOrigin}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'permissions-policy': 'microphone=(), camera=(), geolocation=()',
    });
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    if (gzip) void reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? file.gzip : file.body);
  };

  const index = routeSpec('GET /');
  app.get(index.url, { config: { spec: index }, schema: { hide: true } }, (request, reply) => send(request, reply, 'index.html'));
  const asset = routeSpec('GET /console/:file');
  app.get<{ Params: { file: string } }>(asset.url, { config: { spec: asset }, schema: { hide: true } }, (request, reply) => send(request, reply, request.params.file));
}
