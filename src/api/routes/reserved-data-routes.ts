/**
 * A live call's reserved data (PRODUCT.md §4; the seed's "Apps API", which
 * sets and reads the reserved properties while the call is live): read with
 * calls-view, replaced with reserved-data-edit. PUT takes all three
 * properties (each true, false or null to unset), so a request says exactly
 * what the call's flags become; every PUT is audited with the old and new values.
 */
import type { ApiApp, ApiContext } from '../api-context.js';
import { badRequest } from '../api-errors.js';
import { routeSpec } from '../route-table.js';
import { CallIdParams, errorResponses, ReservedDataBody, ReservedDataSchema } from '../schemas.js';

function describe(values: Readonly<Record<string, boolean>>): string {
  const set = Object.entries(values).map(([k, v]) => `${k}=${String(v)}`);
  return set.length === 0 ? 'none set' : set.join(', ');
}

export function registerReservedDataRoutes(app: ApiApp, ctx: ApiContext): void {
  const read = routeSpec('GET /calls/:id/reserved-data');
  app.get(
    read.url,
    { config: { spec: read }, schema: { summary: read.summary, tags: ['reserved data'], params: CallIdParams, response: { 200: ReservedDataSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => ctx.live.control.reservedData(request.params.id),
  );

  const write = routeSpec('PUT /calls/:id/reserved-data');
  app.put(
    write.url,
    {
      config: { spec: write },
      // Before Ajv (which coerces types): a flag is a JSON boolean or null, never "true" or 1.
      preValidation: (request, _reply, done) => {
        const body = request.body as Record<string, unknown> | null | undefined;
        const wrong = typeof body === 'object' && body !== null ? Object.entries(body).find(([, v]) => v !== null && typeof v !== 'boolean') : undefined;
        done(wrong !== undefined ? badRequest(`body/${wrong[0]} must be true, false or null (a JSON boolean, not ${JSON.stringify(wrong[1])})`) : undefined);
      },
      schema: {
        summary: write.summary,
        description:
          "Replaces the call's reserved properties. They show in the call's details and event stream at once, go into the call record and the recording's CRM metadata at the end, and reach agent legs (and data parameters) sent after the change; an agent leg already ringing keeps the headers it was sent with.",
        tags: ['reserved data'],
        params: CallIdParams,
        body: ReservedDataBody,
        response: { 200: ReservedDataSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const p = ctx.guard.principal(request);
      const { id } = request.params;
      const before = ctx.live.control.reservedData(id).reservedData;
      const { view, changed } = ctx.live.control.setReservedData(id, request.body, p.user);
      ctx.guard.record(request, { action: 'reserved-data.set', outcome: 'ok', call: id, reason: changed ? `${describe(before)} -> ${describe(view.reservedData)}` : `unchanged (${describe(view.reservedData)})`, status: 200 });
      return view;
    },
  );
}
