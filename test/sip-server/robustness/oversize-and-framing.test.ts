/**
 * Size limits and stream framing against the running server: oversized
 * datagrams and stream messages are refused (513, or dropped when nothing can
 * be answered) and a stream is closed after a framing error (RFC 3261 §18.3,
 * §21.5.14); trickled, pipelined and keep-alive traffic is served; a response
 * matching no transaction is dropped and counted (§18.1.2).
 */
import { createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callIdOf, requestBytes, responseBytes, type CaseContext } from '../../support/sip-fixtures/builder.js';
import { headerOf, statusOf, type Transport } from './raw-client.js';
import { useServerUnderTest } from './server-under-test.js';
import { wellFormedProblems } from './well-formed.js';

const MAX = 4096;
const suite = useServerUnderTest({ maxMessageBytes: MAX, invite: 'busy' }, 'o');
const { open, context: ctx } = suite;

const byCallId = (c: CaseContext) => (b: Buffer) => headerOf(b, 'Call-ID', 'i') === callIdOf(c);

async function probe(transport: Transport): Promise<void> {
  const client = await open(transport);
  const c = ctx(transport, client);
  await client.send(requestBytes(c));
  expect(statusOf((await client.waitFor(byCallId(c), 3000)) ?? Buffer.alloc(0)), 'the server still answers').toBe(200);
}

describe('oversized messages are refused (RFC 3261 §21.5.14 513 Message Too Large)', () => {
  it('a UDP datagram over the limit with readable headers gets 513 and never reaches the app', async () => {
    const client = await open('UDP');
    const c = ctx('UDP', client);
    await client.send(requestBytes(c, { extra: [`X-Pad: ${'p'.repeat(MAX)}`] }));
    const answer = await client.waitFor(byCallId(c), 2000);
    expect(answer && statusOf(answer)).toBe(513);
    expect(wellFormedProblems(answer!)).toEqual([]);
    expect(suite.sut.seen.has(callIdOf(c))).toBe(false);
    await probe('UDP');
  });

  it('a near-maximum UDP datagram of noise is dropped without an answer', async () => {
    const client = await open('UDP');
    const noise = Buffer.alloc(60_000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + 13) % 256;
    const before = suite.sut.harness.server.status().malformed;
    await client.send(noise);
    await probe('UDP');
    expect(client.received).toEqual([]);
    expect(suite.sut.harness.server.status().malformed).toBe(before + 1);
  });

  it('a TCP message whose Content-Length passes the limit gets 513 at once (without waiting for the body) and the connection is closed', async () => {
    const client = await open('TCP');
    const c = ctx('TCP', client);
    await client.send(requestBytes(c, { contentLength: String(MAX * 4) }));
    const answer = await client.waitFor(byCallId(c), 2000);
    expect(answer && statusOf(answer)).toBe(513);
    expect(await client.waitClosed(2000)).toBe(true);
    await probe('TCP');
  });

  it('a TCP header over the limit after the request line, Via, From, To, Call-ID and CSeq: 513 from those, then the connection is closed', async () => {
    const client = await open('TCP');
    const c = ctx('TCP', client);
    // Not the whole message: its end would let the framer read the whole header section (the Content-Length case).
    const bytes = requestBytes(c, { extra: [`X-Big: ${'b'.repeat(MAX * 2)}`] });
    await client.send(bytes.subarray(0, bytes.length - 100));
    const answer = await client.waitFor(byCallId(c), 2000);
    expect(answer && statusOf(answer)).toBe(513);
    expect(wellFormedProblems(answer!)).toEqual([]);
    expect(await client.waitClosed(2000)).toBe(true);
    expect(suite.sut.seen.has(callIdOf(c))).toBe(false);
    await probe('TCP');
  });

  it('a TCP header over the limit before the Call-ID: no response can be formed, so none; connection closed', async () => {
    const client = await open('TCP');
    const c = ctx('TCP', client);
    const bytes = requestBytes(c).toString('latin1').replace(/\r\nCall-ID:/i, `\r\nX-Big: ${'b'.repeat(MAX * 2)}\r\nCall-ID:`);
    await client.send(Buffer.from(bytes, 'latin1').subarray(0, MAX * 2));
    expect(await client.waitClosed(2000)).toBe(true);
    expect(client.received).toEqual([]);
    await probe('TCP');
  });

  it('a TCP header section that never ends is cut off at the limit: no answer, connection closed', async () => {
    const client = await open('TCP');
    await client.send(Buffer.from('OPTIONS sip:desk@example.org SIP/2.0\r\n'));
    for (let i = 0; i < 200 && !client.closed; i++) {
      await client.send(Buffer.from(`X-Endless-${i}: ${'e'.repeat(60)}\r\n`)).catch(() => undefined);
    }
    expect(await client.waitClosed(2000)).toBe(true);
    expect(client.received).toEqual([]);
    await probe('TCP');
  });
});

describe('stream framing at the server (RFC 3261 §18.3, RFC 5626 §3.5.1)', () => {
  it('a message trickled one byte per write is answered once complete', async () => {
    const client = await open('TCP');
    const c = ctx('TCP', client);
    const bytes = requestBytes(c, { extra: ['Content-Type: text/plain;charset=utf-8'], body: 'trickle ☎' });
    for (let i = 0; i < bytes.length; i++) await client.send(bytes.subarray(i, i + 1));
    const answer = await client.waitFor(byCallId(c), 3000);
    expect(answer && statusOf(answer)).toBe(200);
    expect(suite.sut.seen.get(callIdOf(c))?.body).toBe('trickle ☎');
  });

  it('twenty requests pipelined in one write get twenty answers on the same connection', async () => {
    const client = await open('TCP');
    const cs = Array.from({ length: 20 }, () => ctx('TCP', client));
    await client.send(Buffer.concat(cs.map((c) => requestBytes(c))));
    for (const c of cs) expect(statusOf((await client.waitFor(byCallId(c), 3000)) ?? Buffer.alloc(0))).toBe(200);
    expect(client.closed).toBe(false);
  });

  it('a CRLF CRLF keep-alive ping gets a CRLF pong and the connection stays usable', async () => {
    const sock = createConnection({ host: '127.0.0.1', port: suite.sut.port('TCP') });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('error', reject);
      });
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      sock.write('\r\n');
      sock.write('\r\n');
      const deadline = Date.now() + 2000;
      while (Buffer.concat(got).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(Buffer.concat(got).toString('latin1')).toBe('\r\n');
    } finally {
      sock.destroy();
    }
    await probe('TCP');
  });

  it('a connection closed by the client in the middle of a message leaves nothing behind', async () => {
    const client = await open('TCP');
    const c = ctx('TCP', client);
    const bytes = requestBytes(c);
    await client.send(bytes.subarray(0, bytes.length - 10));
    const deadline = Date.now() + 2000;
    while (suite.sut.harness.server.status().sipConnections === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(suite.sut.harness.server.status().sipConnections).toBeGreaterThan(0);
    // Every other client of this file is closed by now (afterEach), so the count must reach zero.
    client.close();
    while (suite.sut.harness.server.status().sipConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(suite.sut.harness.server.status().sipConnections).toBe(0);
    expect(suite.sut.seen.has(callIdOf(c))).toBe(false);
  });
});

describe('a response that matches no transaction is dropped (RFC 3261 §18.1.2)', () => {
  for (const transport of ['UDP', 'TCP'] as const) {
    it(`over ${transport}: no answer, strayResponses counts it, malformed does not`, async () => {
      const client = await open(transport);
      const before = suite.sut.harness.server.status();
      for (const start of ['SIP/2.0 200 OK', 'SIP/2.0 180 Ringing', 'SIP/2.0 487 Request Terminated']) {
        await client.send(responseBytes(ctx(transport, client), { start, cseq: '1 INVITE' }));
      }
      await probe(transport);
      const after = suite.sut.harness.server.status();
      expect(client.received).toEqual([]);
      expect(after.strayResponses).toBe(before.strayResponses + 3);
      expect(after.malformed).toBe(before.malformed);
    });
  }
});
