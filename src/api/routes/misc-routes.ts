/** GET /openapi.json, GET /me, GET /audit. */
import { Type } from '@sinclair/typebox';
import type { ApiApp, ApiContext } from '../api-context.js';
import { routeSpec } from '../route-table.js';
import { AuditEntrySchema, AuditQuery, errorResponses, MeSchema } from '../schemas.js';

export function registerMiscRoutes(app: ApiApp, ctx: ApiContext): void {
  const openapi = routeSpec('GET /openapi.json');
  app.get(
    openapi.url,
    { config: { spec: openapi }, schema: { summary: openapi.summary, tags: ['api'], security: [], response: { 200: Type.Object({}, { additionalProperties: true, description: 'An OpenAPI 3.1 document.' }) } } },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );

  const me = routeSpec('GET /me');
  app.get(me.url, { config: { spec: me }, schema: { summary: me.summary, tags: ['api'], response: { 200: MeSchema, ...errorResponses(401) } } }, async (request) => {
    const p = ctx.guard.principal(request);
    return { user: p.user, role: p.role, keyId: p.keyId, permissions: [...p.permissions], scope: p.scope, teams: [...p.teams], device: p.device ?? null };
  });

  const audit = routeSpec('GET /audit');
  app.get(
    audit.url,
    {
      config: { spec: audit },
      schema: { summary: audit.summary, tags: ['audit'], querystring: AuditQuery, response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema) }), ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const q = request.query;
      const entries = ctx.audit.recent(q.limit ?? 100, (e) => (q.user === undefined || e.user === q.user) && (q.action === undefined || e.action === q.action) && (q.call === undefined || e.call === q.call));
      return { entries };
    },
  );
}
