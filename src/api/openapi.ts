/**
 * The API's OpenAPI document, generated from the route schemas by building
 * the API once with nothing live behind it (no listening, keys and audit
 * under a throwaway directory). docs/openapi.json is this text; a test keeps
 * them in step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigObject } from '../config/load.js';
import { CallControl } from '../engine/call-control.js';
import { CallRegistry } from '../engine/session/call-registry.js';
import { silentLogger } from '../observability/logger.js';
import { buildApi } from './api-server.js';

export async function renderOpenApi(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-openapi-'));
  try {
    const calls = new CallRegistry();
    const api = await buildApi({ config: loadConfigObject({ node: { stateDir: dir }, api: { enabled: true } }), baseDir: dir, logger: silentLogger(), control: new CallControl(calls), calls });
    try {
      return `${JSON.stringify(api.app.swagger(), null, 2)}\n`;
    } finally {
      await api.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
