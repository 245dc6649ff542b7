/**
 * Voicemail notices fire when the queue is open, as the hours policy says at
 * that moment (voicemail-notices.ts): a queue closed with no known reopening
 * (an emergency closure without `until`) holds its notices until it opens,
 * checked again periodically and after a restart, never claiming an opening
 * that has not come (probe C F10).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { queueOpening } from '../../src/engine/voicemail/queue-opening.js';
import { VoicemailNotices, type QueueOpening, type VoicemailNotice } from '../../src/engine/voicemail/voicemail-notices.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { policyOf } from '../policy/helpers.js';

const dirs: string[] = [];
const open: VoicemailNotices[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function notices(dir: string, opening: QueueOpening, recheckMs = 20): { n: VoicemailNotices; fired: VoicemailNotice[]; held: (number | null)[] } {
  const n = new VoicemailNotices({ dir, webhook: undefined, logger: silentLogger(), opening, recheckMs });
  const fired: VoicemailNotice[] = [];
  const held: (number | null)[] = [];
  n.on('notify', (x) => fired.push(x));
  n.on('held', (_x, next) => held.push(next));
  open.push(n);
  return { n, fired, held };
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sb-notices-'));
  dirs.push(d);
  return d;
}

const notice = (notifyAt: string | null, recordingId = 'rec-1'): VoicemailNotice => ({
  recordingId,
  call: 'call-1',
  queue: 'voicemail',
  notifyAt,
  callbackNumber: null,
  caller: '+15551230000',
  language: 'en',
  recordedAt: new Date().toISOString(),
});

const written = (dir: string): string => (existsSync(join(dir, 'notices.jsonl')) ? readFileSync(join(dir, 'notices.jsonl'), 'utf8') : '');

describe('voicemail notices', () => {
  it('closed with no known reopening: held, checked again, sent once the queue is open', async () => {
    const dir = tempDir();
    let isOpen = false;
    const { n, fired, held } = notices(dir, () => ({ open: isOpen, nextOpenMs: null }));
    await n.start();
    await n.add(notice(null));
    // Checked at once and again: closed each time, so nothing is sent.
    await eventually(() => held.length >= 3, 5_000, 'the notice checked three times');
    expect(held.every((next) => next === null)).toBe(true);
    expect(fired).toEqual([]);
    expect(written(dir)).toBe('');
    expect(n.size).toBe(1);
    // The closure is lifted: the next check sends it.
    isOpen = true;
    await eventually(() => fired.length === 1, 5_000, 'the notice sent');
    expect(written(dir)).toContain('rec-1');
    expect(n.size).toBe(0);
  });

  it('due at its opening but closed again by then (a closure added since): held until the opening the policy names now', async () => {
    const dir = tempDir();
    // Closed at the first check, reopening 100 ms later; open at any later check. The next check
    // comes only at that opening: the periodic one (a minute) would be too late for the wait below.
    let reopens: number | undefined;
    const { n, fired, held } = notices(dir, (_q, _l, at) => (reopens === undefined ? { open: false, nextOpenMs: (reopens = at + 100) } : { open: true, nextOpenMs: null }), 60_000);
    await n.start();
    await n.add(notice(new Date(Date.now() - 1000).toISOString()));
    await eventually(() => fired.length === 1, 5_000, 'the notice sent at the new opening');
    expect(held).toEqual([reopens]);
  });

  it('an open queue (an overflow voicemail, notifyAt unknown) is told at once; a queue no longer configured too', async () => {
    const dir = tempDir();
    const { n, fired } = notices(dir, (queue) => (queue === 'voicemail' ? { open: true, nextOpenMs: null } : undefined));
    await n.start();
    await n.add(notice(null, 'rec-open'));
    await n.add({ ...notice(null, 'rec-gone'), queue: 'removed' });
    await eventually(() => fired.length === 2, 5_000, 'both notices sent');
  });

  it('close() waits for a notice being sent (its line written, its event told) and cuts short its webhook POST, sending nothing after', async () => {
    const dir = tempDir();
    // A webhook that takes the request and never answers.
    const requests: IncomingMessage[] = [];
    const server = createServer((req) => requests.push(req));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const n = new VoicemailNotices({ dir, webhook: `http://127.0.0.1:${port}/notices`, logger: silentLogger(), opening: () => ({ open: true, nextOpenMs: null }), recheckMs: 20 });
      const fired: string[] = [];
      n.on('notify', (x) => fired.push(x.recordingId));
      await n.start();
      await n.add(notice(null, 'rec-hook'));
      await eventually(() => requests.length === 1, 5_000, 'the webhook POST');
      const aborted = new Promise<void>((resolve) => requests[0]!.socket.once('close', () => resolve()));
      await n.close();
      expect(fired).toEqual(['rec-hook']);
      expect(written(dir)).toContain('rec-hook');
      // The POST was aborted by close(), not left to its own 5 s timeout (3 s is a bound for the abort to reach the server).
      const outcome = await Promise.race([aborted.then(() => 'aborted'), new Promise((r) => setTimeout(r, 3000).unref()).then(() => 'still open')]);
      expect(outcome).toBe('aborted');
      expect(requests).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a held notice survives a restart, and the restarted engine sends it once the queue is open', async () => {
    const dir = tempDir();
    const first = notices(dir, () => ({ open: false, nextOpenMs: null }), 60_000);
    await first.n.start();
    await first.n.add(notice(null));
    await eventually(() => first.held.length >= 1, 5_000, 'held');
    await first.n.close();
    const second = notices(dir, () => ({ open: true, nextOpenMs: null }));
    await second.n.start();
    await eventually(() => second.fired.length === 1, 5_000, 'sent after the restart');
    expect(written(dir)).toContain('rec-1');
  });

  it("the hours policy's answer: an emergency closure without an end has no reopening; with one, its end", () => {
    const at = Date.parse('2026-12-06T06:00:00Z');
    const endless = queueOpening(policyOf({ queues: [{ id: 'q', name: 'Q', emergency: { force: 'closed' } }] }));
    expect(endless('q', 'en', at)).toEqual({ open: false, nextOpenMs: null });
    expect(endless('gone', 'en', at)).toBeUndefined();
    const ending = queueOpening(policyOf({ queues: [{ id: 'q', name: 'Q', emergency: { force: 'closed', until: '2026-12-07T00:00:00Z' } }] }));
    expect(ending('q', 'en', at)).toEqual({ open: false, nextOpenMs: Date.parse('2026-12-07T00:00:00Z') });
    expect(ending('q', 'en', Date.parse('2026-12-07T00:00:00Z'))).toMatchObject({ open: true });
  });
});
