/**
 * Live calls: the lists (Calls > Connected, Calls > In Queue: `?state=`), one
 * call's details, ending a call (the seed's "End Call", with its confirmation
 * step as a required `confirm: true`), and recording pause/resume.
 */
import { Type } from '@sinclair/typebox';
import type { ApiApp, ApiContext } from '../api-context.js';
import { coversTeam } from '../auth/roles.js';
import { routeSpec } from '../route-table.js';
import { CallDetailsSchema, CallIdParams, CallListQuery, CallSummarySchema, EndCallBody, errorResponses } from '../schemas.js';
import { filterCalls } from '../views/live-calls.js';

const RecordingState = Type.Object({ call: Type.String(), recording: Type.Object({ id: Type.String(), state: Type.String() }) });

export function registerCallRoutes(app: ApiApp, ctx: ApiContext): void {
  const list = routeSpec('GET /calls');
  app.get(
    list.url,
    {
      config: { spec: list },
      schema: { summary: list.summary, tags: ['calls'], querystring: CallListQuery, response: { 200: Type.Object({ calls: Type.Array(CallSummarySchema) }), ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const p = ctx.guard.principal(request);
      return { calls: filterCalls(ctx.live.list().filter((c) => coversTeam(p, c.team)), request.query) };
    },
  );

  const show = routeSpec('GET /calls/:id');
  app.get(
    show.url,
    { config: { spec: show }, schema: { summary: show.summary, tags: ['calls'], params: CallIdParams, response: { 200: CallDetailsSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => ctx.live.details(request.params.id),
  );

  const end = routeSpec('POST /calls/:id/end');
  app.post(
    end.url,
    {
      config: { spec: end },
      schema: {
        summary: end.summary,
        description: 'An in-queue caller gets a final response and ringing agents a CANCEL; a connected call gets BYE on both legs. The recording is finished and the call record names who ended it (endedBy supervisor, facts.endedByUser).',
        tags: ['calls'],
        params: CallIdParams,
        body: EndCallBody,
        response: { 200: Type.Object({ call: Type.String(), endedBy: Type.String(), reason: Type.String() }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const p = ctx.guard.principal(request);
      const { id } = request.params;
      const reason = `ended by ${p.user}: ${request.body.reason}`;
      const state = ctx.live.control.get(id).state;
      await ctx.live.control.end(id, reason, 'supervisor', p.user);
      ctx.guard.record(request, { action: 'call.end', outcome: 'ok', call: id, reason: `${request.body.reason} (was ${state})`, status: 200 });
      return { call: id, endedBy: p.user, reason };
    },
  );

  for (const which of ['pause', 'resume'] as const) {
    const spec = routeSpec(which === 'pause' ? 'POST /calls/:id/recording/pause' : 'POST /calls/:id/recording/resume');
    app.post(
      spec.url,
      { config: { spec }, schema: { summary: spec.summary, tags: ['recording'], params: CallIdParams, response: { 200: RecordingState, ...errorResponses(400, 401, 403, 404, 409, 502) } } },
      async (request) => {
        const { id } = request.params;
        // The recording as rtpengine confirmed it, even if the call ended meanwhile: the change was applied.
        const recording = which === 'pause' ? await ctx.live.control.pauseRecording(id) : await ctx.live.control.resumeRecording(id);
        ctx.guard.record(request, { action: which === 'pause' ? 'recording.pause' : 'recording.resume', outcome: 'ok', call: id, reason: `recording ${recording.id} ${recording.state}`, status: 200 });
        return { call: id, recording };
      },
    );
  }
}
