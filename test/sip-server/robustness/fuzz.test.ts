/**
 * Seeded fuzzing of the running server: a bounded number of random mutations
 * of valid requests and responses over UDP and TCP. Whatever happens, the
 * process does not crash (an exception escaping a socket handler would fail
 * the run), everything the server sends back is well-formed SIP, and a valid
 * OPTIONS afterwards is still answered by the app.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callIdOf, requestBytes, responseBytes, type CaseContext } from '../../support/sip-fixtures/builder.js';
import { mutate, mutation, type Mutation } from '../../support/sip-fixtures/mutations.js';
import { VALID_CASES } from '../../support/sip-fixtures/valid-cases.js';
import { headerOf, statusOf, type Transport } from './raw-client.js';
import { useServerUnderTest } from './server-under-test.js';
import { wellFormedProblems } from './well-formed.js';

const UDP_MESSAGES = 400;
const TCP_MESSAGES = 150;

// INVITEs are refused 486 by the app so that fuzzed calls never become dialogs that outlive the test.
const suite = useServerUnderTest({ maxMessageBytes: 8192, invite: 'busy' }, 'f');
const { open } = suite;

/** Valid messages to mutate, addressed from `c` (Via and Contact name the client's own port). */
function seeds(c: CaseContext): Buffer[] {
  const inDialog = { to: `<sip:desk@example.org>;tag=t${c.id}` };
  return [
    requestBytes(c),
    requestBytes(c, { method: 'INVITE', extra: ['Content-Type: application/sdp'], body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' }),
    requestBytes(c, { method: 'BYE', ...inDialog }),
    requestBytes(c, { method: 'CANCEL' }),
    requestBytes(c, { method: 'ACK', ...inDialog }),
    requestBytes(c, { method: 'REGISTER', contact: `<sip:robot@127.0.0.1:${c.port}>;expires=60` }),
    responseBytes(c, { start: 'SIP/2.0 200 OK', cseq: '1 INVITE' }),
    responseBytes(c, { start: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' }),
    ...VALID_CASES.slice(0, 12).map((tc) => tc.build(c)),
  ];
}

interface FuzzInput {
  readonly seed: number;
  readonly edits: Mutation[];
}

function inputs(n: number, seed: number, seedCount: number): FuzzInput[] {
  return fc.sample(fc.record({ seed: fc.integer({ min: 0, max: seedCount - 1 }), edits: fc.array(mutation, { minLength: 1, maxLength: 4 }) }), { seed, numRuns: n });
}

/** Waits until nothing new has arrived for `quietMs` (bounded by `maxMs`). */
async function settle(list: () => number, quietMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let last = -1;
  while (Date.now() < end) {
    const n = list();
    if (n === last) return;
    last = n;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

async function probe(transport: Transport): Promise<void> {
  const client = await open(transport);
  const c: CaseContext = { transport, host: '127.0.0.1', port: client.port, id: `fzprobe${process.pid}${transport}` };
  await client.send(requestBytes(c));
  const ok = await client.waitFor((b) => headerOf(b, 'Call-ID', 'i') === callIdOf(c), 3000);
  expect(ok && statusOf(ok), 'a valid OPTIONS after the fuzzing is answered 200 by the app').toBe(200);
}

/** `sent`: every message sent, whose lines an answer may copy byte for byte (RFC 3261 §8.2.6.2). */
function checkAll(received: Buffer[], sent: Buffer[]): void {
  const all = Buffer.concat(sent.flatMap((b) => [b, Buffer.from('\r\n')]));
  const bad = received.map((b) => ({ problems: wellFormedProblems(b, all), text: b.toString('latin1').slice(0, 300) })).filter((x) => x.problems.length > 0);
  expect(bad).toEqual([]);
}

describe('seeded fuzzing of the running server', () => {
  it(`${UDP_MESSAGES} mutated datagrams: no crash, only well-formed answers, still serving`, async () => {
    const client = await open('UDP');
    const c: CaseContext = { transport: 'UDP', host: '127.0.0.1', port: client.port, id: `fzu${process.pid}` };
    const base = seeds(c);
    const before = suite.sut.harness.server.status();
    let i = 0;
    const sent: Buffer[] = [];
    for (const input of inputs(UDP_MESSAGES, 3261, base.length)) {
      const m = mutate(base[input.seed]!, input.edits);
      sent.push(m);
      await client.send(m);
      // Pace the sender (some seeds are 9 kB) so the socket buffer never overflows and every message is really handled.
      if (++i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await settle(() => client.received.length, 150, 5000);
    checkAll(client.received, sent);
    const after = suite.sut.harness.server.status();
    expect(after.messagesIn - before.messagesIn).toBeGreaterThanOrEqual(UDP_MESSAGES);
    expect(after.malformed).toBeGreaterThan(before.malformed);
    await probe('UDP');
  });

  it(`${TCP_MESSAGES} mutated stream messages: no crash, only well-formed answers, still serving`, async () => {
    const received: Buffer[] = [];
    const streamErrors: string[] = [];
    const all = inputs(TCP_MESSAGES, 4475, seeds({ transport: 'TCP', host: '127.0.0.1', port: 1, id: 'x' }).length);
    const before = suite.sut.harness.server.status();
    const sent: Buffer[] = [];
    // One connection per message, ten at a time: a mutated length may leave the server waiting for
    // bytes that never come, and a framing error closes the connection; neither may affect the next.
    for (let k = 0; k < all.length; k += 10) {
      const batch = all.slice(k, k + 10);
      const conns = await Promise.all(batch.map(() => open('TCP')));
      await Promise.all(
        batch.map(async (input, j) => {
          const client = conns[j]!;
          const c: CaseContext = { transport: 'TCP', host: '127.0.0.1', port: client.port, id: `fzt${process.pid}n${k + j}` };
          const m = mutate(seeds(c)[input.seed]!, input.edits);
          sent.push(m);
          await client.send(m).catch(() => undefined);
        }),
      );
      await new Promise((r) => setTimeout(r, 60));
      for (const client of conns) {
        received.push(...client.received);
        streamErrors.push(...client.streamErrors);
        client.close();
      }
    }
    checkAll(received, sent);
    expect(streamErrors).toEqual([]);
    expect(received.length, 'some fuzzed messages were valid and answered').toBeGreaterThan(0);
    expect(suite.sut.harness.server.status().malformed).toBeGreaterThan(before.malformed);
    await probe('TCP');
  });
});
