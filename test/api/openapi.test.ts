/**
 * The OpenAPI document: generated from the route schemas, served at
 * /openapi.json, and checked into docs/openapi.json (kept in step here, as
 * docs/config-reference.md is). Every route of the route table is in it with
 * its request and response schemas, its errors, and its security.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOpenApi } from '../../src/api/openapi.js';
import { ROUTES } from '../../src/api/route-table.js';
import { startFixture, type Fixture } from './support/api-fixture.js';

interface Operation {
  summary?: string;
  operationId?: string;
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

let fx: Fixture;
let served: Doc;

beforeAll(async () => {
  fx = await startFixture();
  const res = await fx.api.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  served = JSON.parse(res.body) as Doc;
});
afterAll(async () => fx?.close());

describe('OpenAPI', () => {
  it('docs/openapi.json matches the code (regenerate with: node dist/src/cli/main.js openapi --out docs/openapi.json)', async () => {
    const committed = readFileSync(resolve(import.meta.dirname, '../../docs/openapi.json'), 'utf8');
    expect(committed).toBe(await renderOpenApi());
  });

  it('is OpenAPI 3.1 with bearer keys, served without a key at /openapi.json', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('names every operation, each name once (what generated clients call it)', () => {
    const names = ROUTES.map((r) => r.operationId);
    expect(names.every((n) => /^[a-z][A-Za-z]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(ROUTES.length);
  });

  it('holds exactly the routes of the route table, each with a summary, schemas for every answer and the errors it can give', () => {
    const documented = Object.entries(served.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const table = ROUTES.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(documented.sort()).toEqual([...table].sort());
    for (const r of ROUTES) {
      const op = served.paths[r.url.replace(/:(\w+)/g, '{$1}')]![r.method.toLowerCase()]!;
      expect(op.summary, r.url).toBe(r.summary);
      expect(op.operationId, `${r.method} ${r.url}`).toBe(r.operationId);
      for (const [status, res] of Object.entries(op.responses)) expect(Object.values(res.content ?? {})[0]?.schema, `${r.method} ${r.url} ${status}`).toBeDefined();
      if (r.access === 'public') expect(op.security).toEqual([]);
      else expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', ...(r.access === 'authenticated' ? [] : ['403'])]));
      if (r.callScoped) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['404']));
      if (r.method === 'POST' && r.url.endsWith('/end')) expect(op.requestBody).toBeDefined();
      // Bodies over 16 KB (413) and other content types (415) can reach any route that reads a body (all but GET); over-long path segments (414) any with parameters.
      if (r.method !== 'GET') expect(Object.keys(op.responses), `${r.method} ${r.url}`).toEqual(expect.arrayContaining(['413', '415']));
      if (r.url.includes(':')) expect(Object.keys(op.responses), `${r.method} ${r.url}`).toEqual(expect.arrayContaining(['414']));
    }
  });
});
