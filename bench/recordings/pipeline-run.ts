/**
 * One recording through the real pipeline, in a process of its own so that its
 * memory can be measured alone: convert (pcap → PCM → ffmpeg → seal) and
 * deliver every part to the CRM at --crm. Prints one JSON line of timings.
 *
 * Used by recordings-bench.ts; not meant to be run by hand.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { convertStep } from '../../src/recordings/delivery/convert-step.js';
import { deliverStep } from '../../src/recordings/delivery/deliver-step.js';
import { setupPipeline } from '../../src/recordings/service/recordings-setup.js';
import type { RecordingManifest } from '../../src/recordings/store/manifest.js';

const { values } = parseArgs({
  options: { pcap: { type: 'string' }, state: { type: 'string' }, crm: { type: 'string' }, format: { type: 'string', default: 'wav' }, idle: { type: 'boolean', default: false } },
});
if (values.idle) {
  // Baseline: the same process with every module loaded, doing nothing.
  process.stdout.write(`${JSON.stringify({ nodeMaxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.exit(0);
}
const format = values.format === 'mp3' ? 'mp3' : 'wav';
const pcapBytes = statSync(values.pcap!).size;
const config = loadConfigObject({
  node: { stateDir: values.state!, logLevel: 'silent' },
  recordings: { format, encryption: { keyId: 'bench', key: randomBytes(32).toString('base64') } },
  crm: { adapter: 'http', http: { url: values.crm!, responseTimeoutMs: 600_000 } },
});
const { ctx } = await setupPipeline({ config, logger: silentLogger() });
const now = new Date().toISOString();
const manifest: RecordingManifest = {
  version: 1,
  recordingId: 'bench-recording',
  callId: 'bench@call',
  caller: { number: '+15550000001' },
  agent: { id: 'agent' },
  contact: { name: '+15550000001', phone: '+15550000001', anonymous: false },
  startedAt: now,
  endedAt: now,
  pauses: [],
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  capture: { segments: 1, files: [values.pcap!], parties: { caller: { localPort: 40_002 }, agent: { localPort: 40_010 } } },
  state: 'captured',
};
await ctx.store.create(manifest);
const t0 = performance.now();
await convertStep(ctx, manifest.recordingId);
const t1 = performance.now();
const converted = (await ctx.store.readManifest(manifest.recordingId))!;
let parts = 0;
for (;;) {
  const o = await deliverStep(ctx, manifest.recordingId);
  if (o.kind === 'delivered') {
    parts = o.parts;
    break;
  }
}
const t2 = performance.now();
process.stdout.write(
  `${JSON.stringify({
    format,
    pcapBytes,
    audioBytes: converted.audio!.bytes,
    audioSeconds: converted.audio!.durationMs / 1000,
    convertMs: t1 - t0,
    uploadMs: t2 - t1,
    parts,
    nodeMaxRssMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
