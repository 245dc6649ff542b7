/**
 * Deletes rtpengine did not answer, asked again (src/media/rtpengine/delete-retries.ts).
 * Found under SIPp load (review AI-1): rtpengine's ng socket overflowed, a delete and its
 * retransmissions were dropped, and the call stayed at rtpengine, its ports and capture
 * held, for rtpengine's own timeout (hours). First on a real rtpengine through the media
 * plane, whose first delete of a call is made to go unanswered; then the back-off's
 * rules with a stand-in client, and the sessions a run that died left at an external
 * rtpengine, deleted at the next start (left-behind.ts; end to end in test/cli/cli.test.ts).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaService } from '../../src/media/media-service.js';
import { RtpengineError, RtpengineTimeoutError } from '../../src/media/media-errors.js';
import type { NgClient } from '../../src/media/ng/ng-client.js';
import { DeleteRetries } from '../../src/media/rtpengine/delete-retries.js';
import { deleteLeftBehind } from '../../src/media/rtpengine/left-behind.js';
import type { RtpengineInstance } from '../../src/media/rtpengine/rtpengine-pool.js';
import type { Logger } from '../../src/observability/logger.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { RtpEndpoint } from '../support/rtp/rtp-endpoint.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';

describe('a delete rtpengine did not answer, on a real rtpengine', () => {
  let dir: string;
  let media: MediaService;
  beforeAll(async () => {
    dir = tempDir('sb-delete-retry-');
    media = await MediaService.start({ config: mediaTestConfig(dir), logger: silentLogger() });
  });
  afterAll(async () => {
    await media?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is asked again, and the call no longer holds its ports at rtpengine', async () => {
    const client = media.instances[0]!.client;
    const request = client.request.bind(client);
    let dropped = 0;
    // The first delete is lost (as when rtpengine's ng socket drops it and every retransmission).
    (client as { request: typeof request }).request = ((command: string, params: never) => {
      if (command === 'delete' && dropped++ === 0) return Promise.reject(new RtpengineTimeoutError('delete', 3000, 6, 'test'));
      return request(command as 'offer', params);
    });
    const caller = await RtpEndpoint.open();
    try {
      const call = media.createCallMedia('lost-delete');
      await call.offer('caller', caller.sdp());
      expect((await request('list', {})).calls).toContain('lost-delete');
      await call.release();
      expect(dropped).toBe(1);
      await eventually(async () => !(await request('list', {})).calls.includes('lost-delete'), 20_000, 'the call gone from rtpengine', 200);
      expect(media.deleteRetries.pending).toBe(0);
    } finally {
      (client as { request: typeof request }).request = request;
      caller.close();
    }
  }, 30_000);
});

describe('the retries', () => {
  function rig(answers: (id: string, n: number) => Promise<unknown>, live: ReadonlySet<string> = new Set()) {
    const sent: string[] = [];
    const asked: string[] = [];
    const warned: string[] = [];
    const client = {
      closed: false,
      request: (_command: string, params: { 'call-id': string }) => {
        sent.push(params['call-id']);
        return answers(params['call-id'], sent.length);
      },
    };
    const instance: RtpengineInstance = { id: 'r', client: client as unknown as NgClient, promptDelivery: 'file', promptPath: (p) => p, healthy: true };
    const logger = { warn: (_o: unknown, msg: string) => warned.push(msg), info: () => undefined } as unknown as Logger;
    const retries = new DeleteRetries({ logger, callIsLive: (id) => (asked.push(id), live.has(id)), attempts: 3, firstDelayMs: 5, maxDelayMs: 20 });
    return { retries, instance, sent, warned, asked };
  }
  const timeout = () => Promise.reject(new RtpengineTimeoutError('delete', 3000, 6, 'r'));

  it('go on while rtpengine does not answer, stop at its answer, and give up, saying so, after the last', async () => {
    const answered = rig((_id, n) => (n < 3 ? timeout() : Promise.resolve({ result: 'ok' })));
    answered.retries.add(answered.instance, 'a');
    await eventually(() => answered.sent.length === 3 && answered.retries.pending === 0, 5000, 'three tries');
    expect(answered.warned).toEqual([]);

    const silent = rig(() => timeout());
    silent.retries.add(silent.instance, 'b');
    await eventually(() => silent.warned.length > 0, 5000, 'given up');
    expect(silent.sent).toEqual(['b', 'b', 'b']);
    expect(silent.warned).toEqual(['rtpengine never answered the delete: the call stays there until its own timeout']);
  });

  it('"Unknown call-id" ends them (the first delete arrived after all); so does stop()', async () => {
    const gone = rig(() => Promise.reject(new RtpengineError('delete', 'Unknown call-id', 'r')));
    gone.retries.add(gone.instance, 'c');
    await eventually(() => gone.sent.length === 1 && gone.retries.pending === 0, 5000, 'one try');
    const stopped = rig(() => timeout());
    stopped.retries.add(stopped.instance, 'd');
    stopped.retries.stop();
    expect(stopped.retries.pending).toBe(0);
    expect(stopped.sent).toEqual([]);
  });

  it("a supervisor relay leg waits while its call runs (the label may listen again under that id), then is deleted", async () => {
    const live = new Set(['call-1']);
    const r = rig(() => Promise.resolve({ result: 'ok' }), live);
    r.retries.add(r.instance, 'call-1~supervisor');
    // Three rounds find the call live: nothing sent.
    await eventually(() => r.asked.length >= 3, 5000, 'three rounds');
    expect(r.asked.every((id) => id === 'call-1')).toBe(true);
    expect(r.sent).toEqual([]);
    live.delete('call-1');
    await eventually(() => r.sent.length === 1, 5000, 'the relay leg deleted');
    expect(r.sent).toEqual(['call-1~supervisor']);
  });
});

describe('the sessions a previous run left at an external rtpengine', () => {
  it('an rtpengine that does not answer at first is asked again in the background; then exactly the calls and their relay legs are deleted, no other session', async () => {
    let down = 3;
    const commands: string[] = [];
    const at = ['call-1', 'call-1~supervisor-3', 'call-10', 'call-10~supervisor-1', 'call-2~supervisor-1', 'other'];
    const client = {
      closed: false,
      request: (command: string, params: { 'call-id'?: string }) => {
        commands.push(`${command} ${params['call-id'] ?? ''}`.trim());
        // Down for its first three requests (the calls' deletes, the first list): they time out.
        if (down-- > 0) return Promise.reject(new RtpengineTimeoutError(command, 3000, 6, 'r'));
        if (command === 'list') return Promise.resolve({ result: 'ok', calls: at });
        const i = at.indexOf(params['call-id']!);
        if (i === -1) return Promise.reject(new RtpengineError('delete', 'Unknown call-id', 'r'));
        at.splice(i, 1);
        return Promise.resolve({ result: 'ok' });
      },
    };
    const instance: RtpengineInstance = { id: 'r', client: client as unknown as NgClient, promptDelivery: 'file', promptPath: (p) => p, healthy: true };
    const retries = new DeleteRetries({ logger: silentLogger(), callIsLive: () => false, attempts: 3, firstDelayMs: 5, maxDelayMs: 20 });
    const lifetime = new AbortController();
    try {
      await deleteLeftBehind(instance, ['call-1', 'call-7'], { logger: silentLogger(), retries, signal: lifetime.signal, firstDelayMs: 5, maxDelayMs: 20 });
      await eventually(() => retries.pending === 0 && !at.includes('call-1'), 5000, 'the timed-out deletes asked again');
      expect(at).toEqual(['call-10', 'call-10~supervisor-1', 'call-2~supervisor-1', 'other']);
      expect(commands.filter((c) => c === 'list')).toHaveLength(2);
      expect(commands.filter((c) => c.startsWith('delete')).sort()).toEqual(['delete call-1', 'delete call-1', 'delete call-1~supervisor-3', 'delete call-7', 'delete call-7']);
    } finally {
      lifetime.abort();
      retries.stop();
    }
  });
});
