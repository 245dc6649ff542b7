/**
 * The full contact-center call under SIPp load, looking for leaks: every call
 * anchored at rtpengine, the agent whispered to, the call bridged and
 * recorded, the caller talking (a tone streamed by SIPp) and the agent
 * echoing it back. Afterwards every count is back to zero (calls, media,
 * rtpengine calls, dialogs, transactions, timers), rtpengine holds no call,
 * every call has one record, and every recording reached the CRM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { describeRun, freePort, runSipp, SCENARIOS, type SippRun } from '../support/sipp.js';
import { waitForBound } from '../support/interop/port-ready.js';

const CALLS = 1000;
// A leak test, not a throughput test (bench/engine/full-call.ts measures that): a rate a busy two-core
// machine keeps up with, so rtpengine is never too slow to answer (503 Media Relay Unavailable).
const RATE = 10;

let cc: ContactCenter;
let agent: SippRun;

beforeAll(async () => {
  const agentPort = await freePort();
  agent = runSipp({ scenario: 'uas-answer.xml', port: agentPort, transport: 'udp', calls: CALLS, timeoutSec: 600, extra: ['-rtp_echo', '-mp', String(await freePort())] });
  await waitForBound(agentPort, 'udp', 'SIPp agent', 60_000);
  cc = await startContactCenter(
    {
      node: { logLevel: 'silent' },
      // A short whisper (one word, quickly) keeps the calls short; the countdown is off.
      media: { whisper: { countdown: false, speed: 2, callTypes: { inbound: 'Call' } } },
      // Delivery as fast as two cores allow: two conversions at once, no CRM rate limit to speak of.
      recordings: { convertConcurrency: 2, upload: { concurrency: 4, rateLimit: { max: 1000, durationMs: 1000 } } },
      queues: [{ id: 'load', name: 'Load', numbers: ['1000'], agents: [`sip:agent@127.0.0.1:${agentPort}`], recording: { enabled: true } }],
    },
    // Calls last longer on a busy machine, so more are up at once: room for the 400 SIPp lets run at once.
    { worker: true, rtpPorts: 1600 },
  );
}, 120_000);
afterAll(async () => {
  agent?.kill();
  await cc?.stop();
});

function events(): { type: string; recordingId: string }[] {
  const file = join(cc.dir, 'recordings', 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; recordingId: string });
}

describe(`${CALLS} anchored, whispered, recorded calls under SIPp load`, () => {
  it('leave nothing behind and deliver every recording', async () => {
    const caller = runSipp({
      scenario: 'uac-talk.xml',
      remote: `127.0.0.1:${cc.udp.port}`,
      port: await freePort(),
      transport: 'udp',
      calls: CALLS,
      rate: RATE,
      pauseMs: 1000,
      timeoutSec: 600,
      cwd: SCENARIOS,
      extra: ['-mp', String(await freePort()), '-l', '400'],
    });
    const result = await caller.done;
    expect(result.stats.successful, describeRun(result)).toBe(CALLS);
    expect(result.stats.failed).toBe(0);

    // Every call has one record, ended by the caller after a bridge.
    await eventually(() => cc.records().length >= CALLS, 60_000, () => `${CALLS} call records (${cc.records().length})`, 500);
    const records = cc.records();
    expect(records).toHaveLength(CALLS);
    expect(records.every((r) => r.endedBy === 'caller' && r.times.bridged !== null && r.recordings.length === 1)).toBe(true);
    expect(records.every((r) => r.metrics.whisperMs > 0)).toBe(true);

    // Every recording was converted and delivered (none failed: each held the caller's and the echoed audio).
    const ids = new Set(records.flatMap((r) => r.recordings));
    await eventually(() => events().filter((e) => e.type === 'uploaded').length >= CALLS, 480_000, () => `every recording uploaded (${events().filter((e) => e.type === 'uploaded').length})`, 1000);
    const done = events();
    expect(done.filter((e) => e.type === 'failed')).toEqual([]);
    expect(new Set(done.filter((e) => e.type === 'uploaded').map((e) => e.recordingId))).toEqual(ids);

    // Nothing left: calls, media, rtpengine calls, dialogs, transactions and timers (after RFC 3261's Timer D).
    await cc.settled({ transactions: true, timeoutMs: 90_000 });
  }, 900_000);
});
