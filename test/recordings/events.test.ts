/** Recording events: the audit file, listeners, and the optional webhook (with retries, never blocking). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { RecordingEvents, type RecordingEvent } from '../../src/recordings/events/recording-events.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-rec-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recording events', () => {
  it('appends every event to the audit file, tells listeners, and POSTs it to the webhook with its headers', async () => {
    const received: { body: RecordingEvent; token: string | undefined }[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls++;
        if (calls === 1) return void res.writeHead(503).end(); // first try refused: retried
        received.push({ body: JSON.parse(body) as RecordingEvent, token: req.headers['x-token'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const file = join(dir, 'events.jsonl');
    const events = new RecordingEvents(file, silentLogger(), { url, headers: { 'X-Token': 't0k' }, timeoutMs: 2000 });
    const heard: string[] = [];
    events.subscribe((e) => heard.push(e.type));
    await events.emit({ type: 'expired', recordingId: 'r1', callId: 'c1', reason: 'not delivered within the retention limit' });
    await events.emit({ type: 'uploaded', recordingId: 'r2', parts: 2 });
    await events.flush();
    server.close();
    expect(heard).toEqual(['expired', 'uploaded']);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordingEvent);
    expect(lines.map((e) => [e.type, e.recordingId])).toEqual([['expired', 'r1'], ['uploaded', 'r2']]);
    expect(lines[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(received.map((r) => [r.body.type, r.body.reason, r.token])).toEqual([
      ['expired', 'not delivered within the retention limit', 't0k'],
      ['uploaded', undefined, 't0k'],
    ]);
    expect(calls).toBe(3);
  });

  it('keeps the event in the file when the webhook is unreachable', async () => {
    const file = join(dir, 'events2.jsonl');
    const events = new RecordingEvents(file, silentLogger(), { url: 'http://127.0.0.1:1/hook', timeoutMs: 200 });
    await events.emit({ type: 'failed', recordingId: 'r3', reason: 'CRM refused' });
    await events.flush();
    expect(readFileSync(file, 'utf8')).toContain('"recordingId":"r3"');
  });
});
