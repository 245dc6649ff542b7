/**
 * Agents and waiting queues (the product's Agents page and the In Queue
 * figures): the list with filters, one agent, changing an agent's state (an
 * agent its own; a supervisor or manager another's with `agent-state`, within
 * their teams), and the queues' figures. State changes are audited.
 */
import { Type } from '@sinclair/typebox';
import type { ApiApp, ApiContext } from '../api-context.js';
import { badRequest } from '../api-errors.js';
import { coversAnyTeam, coversTeam } from '../auth/roles.js';
import { ENGINE_REASONS } from '../../engine/agents/reasons.js';
import { routeSpec } from '../route-table.js';
import { AgentIdParams, AgentListQuery, AgentSchema, AgentStateBody, errorResponses, QueueStatsSchema } from '../schemas.js';

export function registerAgentRoutes(app: ApiApp, ctx: ApiContext): void {
  const list = routeSpec('GET /agents');
  app.get(
    list.url,
    {
      config: { spec: list },
      schema: { summary: list.summary, tags: ['agents'], querystring: AgentListQuery, response: { 200: Type.Object({ agents: Type.Array(AgentSchema) }), ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const p = ctx.guard.principal(request);
      const q = request.query;
      const text = q.q?.trim().toLowerCase();
      const agents = ctx.agents.list().filter((a) => {
        if (!coversAnyTeam(p, a.teams)) return false;
        if (q.status !== undefined && !q.status.includes(a.status)) return false;
        if (q.state !== undefined && (a.state === null || !q.state.includes(a.state))) return false;
        if (q.team !== undefined && !a.teams.some((t) => q.team!.includes(t))) return false;
        if (q.queue !== undefined && !a.queues.some((t) => q.queue!.includes(t))) return false;
        return text === undefined || text === '' || [a.id, a.name, a.uri].some((f) => f !== null && f.toLowerCase().includes(text));
      });
      return { agents };
    },
  );

  const one = routeSpec('GET /agents/:id');
  app.get(one.url, { config: { spec: one }, schema: { summary: one.summary, tags: ['agents'], params: AgentIdParams, response: { 200: AgentSchema, ...errorResponses(400, 401, 403, 404) } } }, async (request) => {
    // The guard found it (404 otherwise) and checked who may see it.
    return ctx.agents.get(request.params.id)!;
  });

  const state = routeSpec('POST /agents/:id/state');
  app.post(
    state.url,
    {
      config: { spec: state },
      schema: {
        summary: state.summary,
        description:
          'ready logs the agent in (an agent whose phone registers is not ready "unreachable" until it has a registration); not-ready takes it out of rotation with a reason; logged-out logs it out. During a call (ringing, whisper, on call) the change waits for the call and its wrap-up (`pending`); ready during wrap-up ends the wrap-up.',
        tags: ['agents'],
        params: AgentIdParams,
        body: AgentStateBody,
        response: { 200: AgentSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const p = ctx.guard.principal(request);
      const { id } = request.params;
      const { state: wanted, reason } = request.body;
      if (wanted !== 'not-ready' && reason !== undefined) throw badRequest('a reason goes only with not-ready');
      // The engine's own reasons: "unreachable" ends by itself when the phone registers, so a person's would not hold.
      if (reason !== undefined && ENGINE_REASONS.includes(reason)) throw badRequest(`reason "${reason}" is the engine's own (${ENGINE_REASONS.join(', ')}); give another`);
      const view = ctx.agents.request(id, wanted, reason ?? null, p.user);
      ctx.guard.record(request, { action: 'agent.state', outcome: 'ok', agent: id, reason: `${wanted}${reason !== undefined ? ` (${reason})` : ''} → ${view.state ?? view.status}${view.pending !== null ? ` (${view.pending.state} after the call)` : ''}`, status: 200 });
      return view;
    },
  );

  const queues = routeSpec('GET /queues');
  app.get(
    queues.url,
    { config: { spec: queues }, schema: { summary: queues.summary, tags: ['agents'], response: { 200: Type.Object({ queues: Type.Array(QueueStatsSchema) }), ...errorResponses(401, 403) } } },
    async (request) => {
      const p = ctx.guard.principal(request);
      const out = ctx.queues().map((q) => ({ ...q, team: ctx.live.teamOf(q.id) }));
      return { queues: out.filter((q) => coversTeam(p, q.team)) };
    },
  );
}
