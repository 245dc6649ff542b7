/**
 * Capture bookkeeping: start/pause/resume/finish as rtpengine 10.5 allows
 * (stop and start recording, one pcap per segment), the call's metadata, and
 * finding the segments rtpengine wrote. The RecordingControl here is a
 * recorder of calls: rtpengine itself is exercised in rtpengine-e2e.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CallRecording, type RecordingControl } from '../../src/recordings/capture/call-recording.js';
import { locateSegments, segmentMarker } from '../../src/recordings/capture/segment-locator.js';
import { anonymousContactName, contactFor, isAnonymousCaller } from '../../src/recordings/crm/contact.js';
import type { RecordingManifest } from '../../src/recordings/store/manifest.js';
import { ErrorCodes } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-rec-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class ControlLog implements RecordingControl {
  readonly calls: string[] = [];
  failStop = false;
  async start(callId: string, metadata: string): Promise<void> {
    this.calls.push(`start ${callId} ${metadata}`);
  }
  async stop(callId: string): Promise<void> {
    if (this.failStop) throw new Error('rtpengine did not answer');
    this.calls.push(`stop ${callId}`);
  }
}

function setup(caller = { number: '+15551234567', name: 'Ada' }, callStartedAt?: number) {
  let now = Date.parse('2025-10-05T10:15:00Z');
  const control = new ControlLog();
  const submitted: RecordingManifest[] = [];
  const rec = new CallRecording(
    { callId: 'call-1@host', recordingId: 'rec-42', ticketId: 'T-1', queue: { id: 'sales', name: 'Sales' }, caller, agent: { id: 'a1', uri: 'sip:1001@10.0.0.2' }, media: { caller: { localPort: 30_000 }, agent: { localPort: 30_002 } }, ...(callStartedAt !== undefined ? { callStartedAt } : {}) },
    { control, sink: { submit: async (m) => void submitted.push(m) }, retentionMs: 7 * 86_400_000, contact: { channel: 'Phone', timeZone: 'UTC' }, clock: () => now },
  );
  return { rec, control, submitted, advance: (ms: number) => (now += ms) };
}

describe('call recording capture', () => {
  it('records a pause as stop + start, each segment tagged, and hands over the call metadata at the end', async () => {
    const { rec, control, submitted, advance } = setup();
    await rec.start();
    advance(30_000);
    await rec.pause();
    advance(12_000);
    await rec.resume();
    advance(20_000);
    const m = await rec.finish();
    expect(control.calls).toEqual([
      `start call-1@host ${segmentMarker('rec-42', 1)}`,
      'stop call-1@host',
      `start call-1@host ${segmentMarker('rec-42', 2)}`,
      'stop call-1@host',
    ]);
    expect(m).toMatchObject({
      recordingId: 'rec-42',
      callId: 'call-1@host',
      ticketId: 'T-1',
      queue: { id: 'sales', name: 'Sales' },
      startedAt: '2025-10-05T10:15:00.000Z',
      endedAt: '2025-10-05T10:16:02.000Z',
      pauses: [{ pausedAt: '2025-10-05T10:15:30.000Z', resumedAt: '2025-10-05T10:15:42.000Z' }],
      expiresAt: '2025-10-12T10:15:00.000Z',
      capture: { segments: 2, parties: { caller: { localPort: 30_000 }, agent: { localPort: 30_002 } } },
      contact: { name: 'Ada', phone: '+15551234567', anonymous: false },
      state: 'captured',
    });
    expect(submitted).toEqual([m]);
  });

  it('finish is idempotent and does not stop twice when paused at hang-up', async () => {
    const { rec, control, submitted } = setup();
    await rec.start();
    await rec.pause();
    const [a, b] = await Promise.all([rec.finish(), rec.finish()]);
    expect(a).toBe(b);
    expect(control.calls.filter((c) => c.startsWith('stop')).length).toBe(1);
    expect(submitted.length).toBe(1);
    expect(a?.pauses).toEqual([{ pausedAt: expect.any(String) }]);
  });

  it('a pause whose stop rtpengine did not confirm fails loudly and stays recording (redaction is not assumed)', async () => {
    const { rec, control } = setup();
    await rec.start();
    control.failStop = true;
    await expect(rec.pause()).rejects.toThrow('rtpengine did not answer');
    expect(rec.state).toBe('recording');
  });

  it('a second pause (or resume) while the first is on its way to rtpengine is refused: one stop, one start, one pause in the manifest', async () => {
    const { rec, control, submitted } = setup();
    await rec.start();
    const pauses = await Promise.allSettled([rec.pause(), rec.pause(), rec.pause()]);
    expect(pauses.map((p) => p.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect((pauses[1] as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCodes.RECORDING_STATE, message: expect.stringContaining('pausing') });
    const resumes = await Promise.allSettled([rec.resume(), rec.resume()]);
    expect(resumes.map((p) => p.status)).toEqual(['fulfilled', 'rejected']);
    expect([rec.state, rec.pending]).toEqual(['recording', undefined]);
    await rec.finish();
    expect(control.calls.filter((c) => c.startsWith('stop'))).toHaveLength(2); // the pause's and the finish's
    expect(control.calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
    expect(submitted[0]!.pauses).toHaveLength(1);
  });

  it('refuses impossible transitions with a clear error', async () => {
    const { rec } = setup();
    await expect(rec.pause()).rejects.toMatchObject({ code: ErrorCodes.RECORDING_STATE });
    await rec.start();
    await expect(rec.start()).rejects.toMatchObject({ code: ErrorCodes.RECORDING_STATE });
    await expect(rec.resume()).rejects.toMatchObject({ code: ErrorCodes.RECORDING_STATE });
  });

  it('a call that was never recorded hands nothing over', async () => {
    const { rec, submitted } = setup();
    expect(await rec.finish()).toBeUndefined();
    expect(submitted).toEqual([]);
  });

  it('names an anonymous caller\'s contact "Phone User - MM/DD HH:mm"', async () => {
    const { rec } = setup({ number: 'anonymous', name: '' });
    await rec.start();
    expect((await rec.finish())?.contact).toEqual({ name: 'Phone User - 10/05 10:15', anonymous: true });
  });

  it('a call that waited before its recording began: the contact is named, and the retention counted, from the call’s arrival (as the call record names it)', async () => {
    const arrived = Date.parse('2025-10-05T10:13:40Z');
    const { rec } = setup({ number: 'anonymous', name: '' }, arrived);
    await rec.start();
    const m = await rec.finish();
    expect(m?.contact).toEqual({ name: 'Phone User - 10/05 10:13', anonymous: true });
    expect(m?.expiresAt).toBe(new Date(arrived + 7 * 86_400_000).toISOString());
  });
});

describe('anonymous contacts (seed: "Web User - 10/05 10:15")', () => {
  it.each(['', 'anonymous', 'Anonymous', 'restricted', 'unavailable', 'Private', 'withheld', 'BLOCKED', 'bob'])('treats caller id %j as anonymous', (number) => {
    expect(isAnonymousCaller({ number })).toBe(true);
  });

  it('a placeholder is anonymous whatever name comes with it; a named caller without a number is a named contact without a phone', () => {
    expect(isAnonymousCaller({ number: 'withheld', name: 'Bob' })).toBe(true);
    expect(isAnonymousCaller({ number: 'bob', name: 'Bob Smith' })).toBe(false);
    expect(contactFor({ number: 'bob', name: 'Bob Smith' }, new Date(), { channel: 'Phone', timeZone: 'UTC' })).toEqual({ name: 'Bob Smith', anonymous: false });
    expect(contactFor({ number: '+15551234567', name: 'Ann' }, new Date(), { channel: 'Phone', timeZone: 'UTC' })).toEqual({ name: 'Ann', phone: '+15551234567', anonymous: false });
  });

  it('treats Privacy-flagged callers as anonymous even with a number', () => {
    expect(isAnonymousCaller({ number: '+15551234567', anonymous: true })).toBe(true);
    expect(isAnonymousCaller({ number: '+15551234567' })).toBe(false);
  });

  it('formats month/day and 24-hour time in the configured time zone, zero-padded', () => {
    const at = new Date('2025-05-10T03:05:00Z');
    expect(anonymousContactName('Phone', at, 'UTC')).toBe('Phone User - 05/10 03:05');
    expect(anonymousContactName('Phone', at, 'Asia/Jakarta')).toBe('Phone User - 05/10 10:05');
    expect(anonymousContactName('Phone', at, 'America/New_York')).toBe('Phone User - 05/09 23:05');
    expect(anonymousContactName('Mobile', new Date('2025-10-05T10:15:00Z'), 'UTC')).toBe('Mobile User - 10/05 10:15');
  });

  it('uses the number (and name when known) for an identified caller', () => {
    expect(contactFor({ number: '+15551234567' }, new Date(), { channel: 'Phone', timeZone: 'UTC' })).toEqual({ name: '+15551234567', phone: '+15551234567', anonymous: false });
  });
});

describe('finding the segments rtpengine wrote', () => {
  it('matches metadata files by our marker, maps the recorded path into our view of the directory, orders by segment', async () => {
    const cap = join(dir, 'cap1');
    mkdirSync(join(cap, 'metadata'), { recursive: true });
    mkdirSync(join(cap, 'pcaps'), { recursive: true });
    const meta = (name: string, pcap: string, marker: string): void =>
      writeFileSync(join(cap, 'metadata', name), `/remote/spool/pcaps/${pcap}\n\n\ncall start time: x\n\n\n${marker}\n`);
    meta('rtpengine-meta-a.txt', 'c%40h-2222222222222222.pcap', segmentMarker('rec-9', 2));
    meta('rtpengine-meta-b.txt', 'c%40h-1111111111111111.pcap', segmentMarker('rec-9', 1));
    meta('rtpengine-meta-c.txt', 'other-3333333333333333.pcap', segmentMarker('rec-10', 1));
    const found = await locateSegments(cap, 'rec-9', 'c@h');
    expect(found.map((s) => [s.index, s.pcap])).toEqual([
      [1, join(cap, 'pcaps', 'c%40h-1111111111111111.pcap')],
      [2, join(cap, 'pcaps', 'c%40h-2222222222222222.pcap')],
    ]);
  });

  it('falls back to the call id in pcap names when rtpengine wrote no metadata', async () => {
    const cap = join(dir, 'cap2');
    mkdirSync(join(cap, 'pcaps'), { recursive: true });
    writeFileSync(join(cap, 'pcaps', `${encodeURIComponent('abc/1@host:5060')}-0123456789abcdef.pcap`), '');
    writeFileSync(join(cap, 'pcaps', 'someone-else-0123456789abcdef.pcap'), '');
    const found = await locateSegments(cap, 'rec-x', 'abc/1@host:5060');
    expect(found.map((s) => s.pcap)).toEqual([join(cap, 'pcaps', 'abc%2F1%40host%3A5060-0123456789abcdef.pcap')]);
  });
});
