/**
 * The supervisors' HTTP API (Fastify): live calls and agents, call details,
 * silent monitoring, ending calls, recording control, reserved data, an event stream and the
 * audit log, behind API keys mapped to users and roles. Off the SIP path: it
 * only reads the engine's call registry and acts through CallControl.
 *
 * Every request goes through one guard (route-table.ts says what each route
 * needs): authenticate (401), permission (403), then, for a route on one call,
 * the call's team (404 if no such call, 403 if not one of the user's teams).
 * Every error is JSON {statusCode, code, reason} (api-errors.ts); denials are
 * audited whatever the route.
 */
import { join, resolve } from 'node:path';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SwitchboardConfig } from '../config/load.js';
import type { AgentRegistry } from '../engine/agents/agent-registry.js';
import type { CallControl } from '../engine/call-control.js';
import type { QueueStats } from '../engine/queues/call-queues.js';
import type { CallRegistry } from '../engine/session/call-registry.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import { ConfiguredAgentSource, type AgentSource } from './agents/agent-source.js';
import { badRequest, errorBodyOf } from './api-errors.js';
import { Ajv } from 'ajv';
import { ErrorCodes } from '../errors.js';
import { EmptyBody, errorResponses, NoQuery } from './schemas.js';
import { AuditLog } from './audit/audit-log.js';
import { Guard } from './auth/guard.js';
import { KeyStore } from './auth/key-store.js';
import { keysFilePath } from './auth/keys-file.js';
import { RoleBook } from './auth/roles.js';
import { LiveEvents } from './events/live-events.js';
import type { ApiApp, ApiContext, SipWebSocketListener } from './api-context.js';
import { CONSOLE_ROUTES, ROUTES, type RouteSpec } from './route-table.js';
import { registerAgentRoutes } from './routes/agent-routes.js';
import { registerConsoleRoutes } from './routes/console-routes.js';
import { registerCallRoutes } from './routes/call-routes.js';
import { registerEventsRoute } from './routes/events-route.js';
import { registerMiscRoutes } from './routes/misc-routes.js';
import { registerMonitorRoutes } from './routes/monitor-routes.js';
import { registerReservedDataRoutes } from './routes/reserved-data-routes.js';
import { StuckCalls } from './stuck-calls.js';
import { LiveCalls } from './views/live-calls.js';


export interface ApiDeps {
  readonly config: SwitchboardConfig;
  /** Relative paths (state dir, keys file, audit file) resolve against this. */
  readonly baseDir: string;
  readonly logger: Logger;
  readonly control: CallControl;
  readonly calls: CallRegistry;
  /** The Agents page's source (default: the agent registry's agents and the queues' static targets). */
  readonly agents?: AgentSource;
  /** The engine's agents (their states); without it only static targets are listed. */
  readonly agentRegistry?: AgentRegistry | undefined;
  /** The engine's waiting queues (figures, each waiting call's place). */
  readonly queues?: QueueSource | undefined;
  readonly now?: () => number;
  /** How often agent statuses are compared for the event stream. */
  readonly agentTickMs?: number;
  /** The embedded SIP server's ws/wss listeners, for the web console's monitoring (none: api.console.sipWebSocketUrl or no browser monitoring). */
  readonly sipWebSockets?: readonly SipWebSocketListener[];
  /** The embedded SIP server's transports: a monitor device needing another is refused with 400 (undefined: not checked). */
  readonly sipTransports?: readonly string[];
}

export interface QueueSource {
  stats(): QueueStats[];
  placeOf(call: string): { position: number; priority: number; enqueuedAt: number; offering: boolean } | undefined;
}

export interface Api {
  readonly app: ApiApp;
  readonly keys: KeyStore;
  readonly audit: AuditLog;
  readonly events: LiveEvents;
  /** Re-reads the keys file (SIGHUP). */
  reloadKeys(): void;
  /** Opens the audit log file again (SIGHUP, after a rotation by rename). */
  reopenFiles(): void;
  close(): Promise<void>;
}

const API_VERSION = '1.0.0';
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function noBodyIsEmpty(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  request.body ??= {};
  done();
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const partsAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false });

/** The errors a route can give whatever its handler does: 400 (a query parameter), 414 (a path segment too long) with path parameters, 413 and 415 with a body. */
function transportErrors(spec: RouteSpec): number[] {
  // A DELETE may carry a body too (RFC 9110 §9.3.5): it is read, so it can be too large or of another type.
  return [400, ...(spec.url.includes(':') ? [414] : []), ...(spec.method === 'GET' ? [] : [413, 415])];
}

/** The methods `routes` serve on `path` (HEAD with GET), or none when no route has that path. */
function allowedMethods(routes: readonly RouteSpec[], path: string): string[] {
  const methods = new Set<string>();
  for (const r of routes) {
    const pattern = new RegExp(`^${r.url.replace(/:\w+/g, '[^/]+')}$`);
    if (!pattern.test(path)) continue;
    methods.add(r.method);
    if (r.method === 'GET') methods.add('HEAD');
  }
  return [...methods].sort();
}

/** Builds the API (not listening): `inject()` works on it; `startApiServer` listens. */
export async function buildApi(deps: ApiDeps): Promise<Api> {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const stateDir = resolve(deps.baseDir, config.node.stateDir);
  const roles = new RoleBook(config.api.roles);
  const keys = new KeyStore({ configKeys: config.api.keys, file: keysFilePath(config, deps.baseDir), roles, logger });
  keys.start();
  const audit = new AuditLog(resolve(deps.baseDir, config.api.auditFile ?? join(stateDir, 'api', 'audit.jsonl')), componentLogger(logger, 'audit'), now);
  const queues = deps.queues;
  const live = new LiveCalls(deps.control, config.queues, config.api.stuckCalls.thresholdSeconds * 1000, now, (call) => queues?.placeOf(call));
  const agents = deps.agents ?? new ConfiguredAgentSource(config.queues, () => deps.control.sessions(), deps.agentRegistry);
  const events = new LiveEvents(deps.calls, deps.control, live, agents, deps.agentTickMs);
  const guard = new Guard(keys, live, audit, agents, now);
  const stuck = new StuckCalls(live, audit, config.api.stuckCalls, logger);

  const apiLogger: FastifyBaseLogger = componentLogger(logger, 'api');
  const app: ApiApp = Fastify({
    loggerInstance: apiLogger,
    // Anyone who reaches the port can open connections: an idle one is closed (the socket's inactivity
    // timeout; an event stream's keep-alives count), a request must arrive whole in that time, and the
    // number open at once is bounded (below), so that connections cannot use up the process's files,
    // which the SIP server shares.
    connectionTimeout: config.api.idleTimeoutSeconds * 1000,
    requestTimeout: config.api.idleTimeoutSeconds * 1000,
    // Dashboards poll and stream: no log line per request (the audit log has what matters).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // A path segment over Fastify's 100 characters: the documented error body (no path echoed), not Fastify's own.
    frameworkErrors: (err, _request, reply: FastifyReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const status = tooLong ? 414 : 400;
      void reply
        .code(status)
        .type('application/json')
        .send({ statusCode: status, code: ErrorCodes.API_BAD_REQUEST, reason: tooLong ? 'a path segment is longer than 100 characters' : 'the path is not a valid URL' });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Request bodies are JSON as sent: no coercion ("reason": 123 is not a string). Query strings are text: they are coerced.
  const bodyAjv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv.compile(schema) : partsAjv.compile(schema)));
  // An empty body with Content-Type: application/json is no body (HTTP clients send the header by default, even on DELETE).
  const json = app.getDefaultJsonParser('error', 'error');
  // Bodies are JSON only: text/plain (which Fastify parses by default) gets 415 like any other type, unless empty.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '' || (Buffer.isBuffer(body) && body.length === 0)) done(null, undefined);
    else done(Object.assign(new Error('unsupported Content-Type: bodies are application/json'), { statusCode: 415 }), undefined);
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(null, undefined);
      return;
    }
    // RFC 8259 §8.1: JSON is UTF-8; bytes that are not are refused, not read as U+FFFD.
    let text: string;
    try {
      text = STRICT_UTF8.decode(bytes);
    } catch {
      done(badRequest('the body is not valid UTF-8 (RFC 8259 §8.1)'), undefined);
      return;
    }
    void json(request, text, (err, parsed) => {
      // Fastify's parser refuses __proto__ and constructor.prototype keys with a message that blames the JSON:
      // JSON that parses is refused for that.
      if (err !== null && isJson(text)) done(badRequest('the body has a "__proto__" or "constructor.prototype" key, refused (prototype poisoning)'), undefined);
      else done(err, parsed);
    });
  });

  /** The routes registered (the console's only when it is enabled): what a 405's Allow lists. */
  const registered: RouteSpec[] = [];
  app.addHook('onRoute', (route) => {
    const spec = route.config?.spec;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'HEAD')) return;
    if (spec === undefined || ![...ROUTES, ...CONSOLE_ROUTES].some((r) => r.method === spec.method && r.url === route.url)) throw new Error(`route ${methods.join(',')} ${route.url} is not in the route table`);
    registered.push(spec);
    if (!ROUTES.some((r) => r.method === spec.method && r.url === route.url)) return;
    // Every API route refuses unknown query parameters (400), as those with filters do; the errors every route can give are declared.
    const schema = (route.schema ??= {});
    if ('operationId' in spec) schema.operationId = spec.operationId;
    schema.querystring ??= NoQuery;
    // A route that takes no body refuses one with fields (an unknown field is a mistake the client should hear of); no body is {}.
    if (spec.method !== 'GET' && schema.body === undefined) {
      schema.body = EmptyBody;
      const own = route.preValidation;
      route.preValidation = [noBodyIsEmpty, ...(own === undefined ? [] : Array.isArray(own) ? own : [own])];
    }
    schema.response = { ...(schema.response as object | undefined), ...errorResponses(...transportErrors(spec)) };
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Switchboard supervisors API', version: API_VERSION, description: "Live calls, waiting queues, agents and their states, silent monitoring, ending calls, recording control and the audit log. Authenticate with `Authorization: Bearer <key>` (`switchboard keys add`)." },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: sbk_<id>.<secret>' } } },
      security: [{ apiKey: [] }],
    },
  });
  app.addHook('onRequest', (request, _reply, done) => {
    guard.check(request);
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    guard.checkCall(request);
    done();
  });
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = errorBodyOf(err);
    if (body.internal) request.log.error({ err, url: request.url }, 'API request failed');
    guard.auditError(request, body);
    // RFC 6750 §3 (RFC 9110 §11.6.1): a 401 names the scheme; a token that was sent and refused is invalid_token.
    // No Bearer token at all (none, or another scheme such as Basic) is a request without authentication: no error code (§3.1).
    if (body.statusCode === 401) void reply.header('www-authenticate', /^\s*bearer\s+\S/i.test(request.headers.authorization ?? '') ? 'Bearer realm="switchboard", error="invalid_token"' : 'Bearer realm="switchboard"');
    void reply.code(body.statusCode).type('application/json').send({ statusCode: body.statusCode, code: body.code, reason: body.reason });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allow = allowedMethods(registered, path);
    if (allow.length > 0) {
      // RFC 9110 §15.5.6: the resource exists, the method does not.
      void reply
        .code(405)
        .header('allow', allow.join(', '))
        .send({ statusCode: 405, code: ErrorCodes.API_BAD_REQUEST, reason: `${request.method} is not allowed on ${path.slice(0, 200)}; allowed: ${allow.join(', ')}` });
      return;
    }
    void reply.code(404).send({ statusCode: 404, code: 'SB_NOT_FOUND', reason: `no route ${request.method} ${request.url.split('?')[0]}; see GET /openapi.json` });
  });

  const ctx: ApiContext = { config, live, agents, queues: () => queues?.stats() ?? [], audit, events, guard, keys, sipWebSockets: deps.sipWebSockets ?? [], sipTransports: deps.sipTransports, now };
  registerMiscRoutes(app, ctx);
  registerCallRoutes(app, ctx);
  registerMonitorRoutes(app, ctx);
  registerReservedDataRoutes(app, ctx);
  registerAgentRoutes(app, ctx);
  registerEventsRoute(app, ctx, config.api.idleTimeoutSeconds * 1000);
  if (config.api.console.enabled) registerConsoleRoutes(app, ctx, logger);
  app.addHook('preClose', (done) => {
    events.close();
    done();
  });
  await app.ready();
  stuck.start();
  // Counts of unauthenticated denials not audited one by one are written once their minute is over.
  const denialReport = setInterval(() => guard.reportSuppressedDenials(), 15_000);
  denialReport.unref();
  let closing: Promise<void> | undefined;
  return {
    app,
    keys,
    audit,
    events,
    reloadKeys: () => keys.reload('SIGHUP'),
    reopenFiles: () => audit.reopen(),
    close: () =>
      (closing ??= (async () => {
        await stuck.stop();
        keys.stop();
        clearInterval(denialReport);
        await app.close();
        guard.reportSuppressedDenials(true);
        audit.close();
      })()),
  };
}

export interface ApiServer extends Api {
  readonly port: number;
}

export async function startApiServer(deps: ApiDeps): Promise<ApiServer> {
  const api = await buildApi(deps);
  api.app.server.maxConnections = deps.config.api.maxConnections;
  try {
    await api.app.listen({ host: deps.config.api.host, port: deps.config.api.port });
  } catch (e) {
    await api.close();
    throw e;
  }
  const addr = api.app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : deps.config.api.port;
  deps.logger.info({ url: `http://${deps.config.api.host}:${port}`, keys: api.keys.size }, 'supervisors API listening');
  return { ...api, port };
}
