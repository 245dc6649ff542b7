/**
 * The ng client against a local UDP peer that speaks the ng protocol (cookie,
 * space, bencoded dictionary) and misbehaves on purpose: it drops requests,
 * answers late, answers twice, answers garbage, answers from another port.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { RtpengineClosedError, RtpengineError, RtpengineProtocolError, RtpengineTimeoutError } from '../../src/media/media-errors.js';
import { bdecode, bencode, bencodeToText, type BencodeValue } from '../../src/media/ng/bencode.js';
import { NgClient } from '../../src/media/ng/ng-client.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';

interface Received {
  readonly cookie: string;
  readonly body: Record<string, unknown>;
  readonly from: RemoteInfo;
}

/** A fake rtpengine: `behaviour` decides, per received datagram, what to send back and when. */
class NgPeer {
  readonly received: Received[] = [];
  private closed = false;
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async open(behaviour: (r: Received, peer: NgPeer) => void): Promise<NgPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const peer = new NgPeer(socket, socket.address().port);
    socket.on('message', (msg, from) => {
      const space = msg.indexOf(0x20);
      const r: Received = {
        cookie: msg.toString('latin1', 0, space),
        body: bencodeToText(bdecode(msg.subarray(space + 1))) as Record<string, unknown>,
        from,
      };
      peer.received.push(r);
      behaviour(r, peer);
    });
    return peer;
  }

  reply(r: Received, body: BencodeValue, delayMs = 0, via: Socket = this.socket): void {
    const msg = Buffer.concat([Buffer.from(`${r.cookie} `), bencode(body)]);
    const send = (): void => {
      if (!this.closed) via.send(msg, r.from.port, r.from.address);
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  }

  raw(r: Received, bytes: Buffer): void {
    this.socket.send(bytes, r.from.port, r.from.address);
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

async function setup(behaviour: (r: Received, peer: NgPeer) => void, options: { timeoutMs?: number; retransmitMs?: number } = {}) {
  const peer = await NgPeer.open(behaviour);
  const client = new NgClient({ host: '127.0.0.1', port: peer.port, logger: silentLogger(), timeoutMs: options.timeoutMs ?? 1000, retransmitMs: options.retransmitMs ?? 100 });
  cleanups.push(() => client.close(), () => peer.close());
  return { peer, client };
}

describe('ng client: retransmission, timeouts, late and bad replies', () => {
  it('sends "<cookie> <bencoded dict>" with the command inside, and resolves with the reply', async () => {
    const { peer, client } = await setup((r, p) => p.reply(r, { result: 'pong' }));
    await expect(client.request('ping', {})).resolves.toEqual({ result: 'pong' });
    expect(peer.received[0]!.body).toEqual({ command: 'ping' });
    expect(peer.received[0]!.cookie).toMatch(/^[0-9a-z]+$/);
  });

  it('retransmits a lost request with the same cookie until a reply arrives', async () => {
    let seen = 0;
    const { peer, client } = await setup((r, p) => {
      if (++seen >= 3) p.reply(r, { result: 'ok', calls: ['a'] }); // the first two are "lost"
    });
    const reply = await client.request('list', {});
    expect(reply.calls).toEqual(['a']);
    expect(peer.received).toHaveLength(3);
    expect(new Set(peer.received.map((r) => r.cookie)).size).toBe(1);
    expect(client.stats.retransmits).toBe(2);
  });

  it('times out with a typed error saying how long and how many attempts, when nothing answers', async () => {
    const { peer, client } = await setup(() => undefined, { timeoutMs: 450, retransmitMs: 100 });
    const err = await client.request('query', { 'call-id': 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtpengineTimeoutError);
    expect((err as RtpengineTimeoutError).code).toBe(ErrorCodes.RTPENGINE_TIMEOUT);
    expect((err as RtpengineTimeoutError).timeoutMs).toBe(450);
    // Every attempt reached the peer (the last may still be on its way); it was retransmitted at least
    // once (a busy machine's late timers make fewer retransmissions, never none: 100 ms < 450 ms).
    const attempts = (err as RtpengineTimeoutError).attempts;
    await eventually(() => peer.received.length === attempts, 10_000, () => `${attempts} attempts at the peer (has ${peer.received.length})`);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(client.pendingCount).toBe(0);
  });

  it('waits twice as long before each retransmission, up to four times the first (an overloaded rtpengine gets fewer repeats)', async () => {
    const { peer, client } = await setup(() => undefined, { timeoutMs: 1000, retransmitMs: 100 });
    const err = await client.request('query', { 'call-id': 'x' }).catch((e: unknown) => e);
    const attempts = (err as RtpengineTimeoutError).attempts;
    await eventually(() => peer.received.length === attempts, 10_000, () => `${attempts} attempts at the peer (has ${peer.received.length})`);
    // Sent at 0, 100, 300 and 700 ms (then 1100, past the deadline): four, where a fixed interval sends ten. Late
    // timers on a busy machine send fewer, never more.
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
  });

  it('a reply that arrives after the timeout is ignored and counted as late', async () => {
    const { peer, client } = await setup((r, p) => p.reply(r, { result: 'pong' }, 400), { timeoutMs: 200, retransmitMs: 1000 });
    await expect(client.request('ping', {})).rejects.toBeInstanceOf(RtpengineTimeoutError);
    await eventually(() => client.stats.lateReplies === 1, 10_000, 'the late reply');
    expect(peer.received).toHaveLength(1);
  });

  it('duplicate replies (one per retransmission) settle the request once; the rest are dropped', async () => {
    const { client } = await setup((r, p) => p.reply(r, { result: 'ok', duration: 1234 }, 250), { timeoutMs: 2000, retransmitMs: 100 });
    const reply = await client.request('play media', { 'call-id': 'c', label: 'agent', file: '/x.wav' });
    expect(reply.duration).toBe(1234);
    // The peer answers every retransmission: once those answers are in, each was dropped as late.
    await eventually(() => client.stats.lateReplies >= 1 && client.stats.lateReplies === client.stats.retransmits, 10_000, () => `late replies ${client.stats.lateReplies} = retransmits ${client.stats.retransmits}`);
  });

  it('replies to concurrent requests are matched by cookie, whatever their order', async () => {
    const { client } = await setup((r, p) => p.reply(r, { result: 'ok', calls: [String(r.body.limit)] }, r.body.limit === 1 ? 150 : 10));
    const [a, b] = await Promise.all([client.request('list', { limit: 1 }), client.request('list', { limit: 2 })]);
    expect(a.calls).toEqual(['1']);
    expect(b.calls).toEqual(['2']);
  });

  it('"result: error" becomes RtpengineError carrying rtpengine\'s error-reason', async () => {
    const { client } = await setup((r, p) => p.reply(r, { result: 'error', 'error-reason': 'Unknown call-id' }));
    const err = await client.request('query', { 'call-id': 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtpengineError);
    expect((err as RtpengineError).code).toBe(ErrorCodes.RTPENGINE_ERROR);
    expect((err as RtpengineError).reason).toBe('Unknown call-id');
    expect((err as RtpengineError).command).toBe('query');
  });

  it('"result: load limit" is an error too', async () => {
    const { client } = await setup((r, p) => p.reply(r, { result: 'load limit' }));
    await expect(client.request('offer', { 'call-id': 'c', 'from-tag': 'a', sdp: 'v=0' })).rejects.toMatchObject({ reason: 'load limit' });
  });

  it('a malformed reply rejects that request with a protocol error instead of a timeout', async () => {
    const { client } = await setup((r, p) => p.raw(r, Buffer.from(`${r.cookie} d6:result2:ok`)));
    await expect(client.request('ping', {})).rejects.toBeInstanceOf(RtpengineProtocolError);
    expect(client.stats.malformedReplies).toBe(1);
  });

  it('a successful reply lacking what the command must return is a protocol error', async () => {
    const { client } = await setup((r, p) => p.reply(r, { result: 'ok' }));
    await expect(client.request('offer', { 'call-id': 'c', 'from-tag': 'a', sdp: 'v=0' })).rejects.toThrow(/without sdp/);
  });

  it('ignores a reply that does not come from the ng port', async () => {
    const other = createSocket('udp4');
    await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => other.close());
    let n = 0;
    const { client } = await setup((r, p) => {
      n++;
      if (n === 1) p.reply(r, { result: 'error', 'error-reason': 'spoofed' }, 0, other);
      else p.reply(r, { result: 'pong' });
    });
    await expect(client.request('ping', {})).resolves.toEqual({ result: 'pong' });
  });

  it('close() rejects every pending request with RtpengineClosedError', async () => {
    const { client } = await setup(() => undefined, { timeoutMs: 5000 });
    const pending = [client.request('ping', {}), client.request('list', {})];
    await new Promise((r) => setTimeout(r, 50));
    expect(client.pendingCount).toBe(2);
    client.close();
    for (const p of pending) await expect(p).rejects.toBeInstanceOf(RtpengineClosedError);
    expect(client.pendingCount).toBe(0);
  });

  it('a request after close() is refused without being sent', async () => {
    const { peer, client } = await setup((r, p) => p.reply(r, { result: 'pong' }));
    client.close();
    const err = await client.request('ping', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtpengineClosedError);
    expect((err as RtpengineClosedError).code).toBe(ErrorCodes.RTPENGINE_CLOSED);
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.received).toHaveLength(0);
  });

  it('binary values (an inline prompt) reach the peer byte for byte', async () => {
    const blob = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
    let got: Buffer | undefined;
    const peer = await NgPeer.open(() => undefined);
    cleanups.push(() => peer.close());
    // Decode raw here: the shared helper turns bytes into text.
    const rawSocket = createSocket('udp4');
    await new Promise<void>((resolve) => rawSocket.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => rawSocket.close());
    rawSocket.on('message', (msg, from) => {
      const space = msg.indexOf(0x20);
      got = (bdecode(msg.subarray(space + 1)) as Record<string, Buffer>).blob;
      rawSocket.send(Buffer.concat([msg.subarray(0, space + 1), bencode({ result: 'ok', duration: 375 })]), from.port, from.address);
    });
    const client = new NgClient({ host: '127.0.0.1', port: rawSocket.address().port, logger: silentLogger() });
    cleanups.push(() => client.close());
    await client.request('play media', { 'call-id': 'c', label: 'caller', blob });
    expect(got !== undefined && Buffer.compare(got, blob)).toBe(0);
  });
});
