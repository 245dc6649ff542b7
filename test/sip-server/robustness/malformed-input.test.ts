/**
 * Malformed and hostile input against the running server (issue 2, "What must
 * be shown" 4), over real UDP and TCP sockets, with an unmodified drachtio-srf
 * app behind it. For every torture case: the exact status (or no answer), the
 * app never sees a refused request, whatever is sent back is well-formed SIP,
 * and a valid OPTIONS right afterwards is still answered 200 by the app.
 *
 * "No answer" is decided without long sleeps: the server handles a socket's
 * messages in order, and an answer to a malformed message is sent while it is
 * handled, so it would arrive before the 200 to the OPTIONS sent after it
 * (which needs a round trip through the app).
 */
import { describe, expect, it } from 'vitest';
import { callIdOf, requestBytes } from '../../support/sip-fixtures/builder.js';
import type { Outcome, TortureCase } from '../../support/sip-fixtures/cases.js';
import { INVALID_REQUESTS, INVALID_RESPONSES } from '../../support/sip-fixtures/invalid-cases.js';
import { VALID_CASES, VALID_RESPONSES } from '../../support/sip-fixtures/valid-cases.js';
import { headerOf, statusOf, type RawClient, type Transport } from './raw-client.js';
import { useServerUnderTest } from './server-under-test.js';
import { wellFormedProblems } from './well-formed.js';

const suite = useServerUnderTest({ maxMessageBytes: 16384, invite: 'busy' }, 'r');
const { open, context } = suite;

/** Sends a valid OPTIONS and waits for the app's 200: the server is still serving. */
async function probe(transport: Transport, client: RawClient): Promise<string> {
  const c = context(transport, client);
  await client.send(requestBytes(c));
  const ok = await client.waitFor((b) => headerOf(b, 'Call-ID', 'i') === callIdOf(c) && statusOf(b) === 200, 3000);
  expect(ok, 'a valid OPTIONS after the case is answered 200').toBeDefined();
  expect(suite.sut.seen.has(callIdOf(c))).toBe(true);
  return callIdOf(c);
}

async function run(transport: Transport, tc: TortureCase, isResponse: boolean): Promise<void> {
  const stream = transport === 'TCP' && tc.stream !== undefined && tc.stream !== 'skip' ? tc.stream : undefined;
  const outcome: Outcome = stream ?? tc.expect;
  const client = await open(transport);
  const c = context(transport, client);
  const before = suite.sut.harness.server.status();
  const seenBefore = suite.sut.seen.size;
  const bytes = tc.build(c);
  const callId = headerOf(bytes, 'Call-ID', 'i') ?? callIdOf(c);
  await client.send(bytes);

  let probeClient = client;
  if (stream?.closes === true) {
    // A framing error: whatever answer there is comes first, then the server closes the connection.
    expect(await client.waitClosed(2000), 'the server closes the connection').toBe(true);
    probeClient = await open(transport);
  }
  const probeId = await probe(transport, probeClient);
  await new Promise((r) => setTimeout(r, 20));

  const answers = client.received.filter((b) => headerOf(b, 'Call-ID', 'i') !== probeId);
  for (const a of answers) expect(wellFormedProblems(a, bytes), a.toString('latin1')).toEqual([]);
  expect(client.streamErrors).toEqual([]);
  const statuses = answers.map(statusOf);
  const after = suite.sut.harness.server.status();

  if (outcome.kind === 'accept' && isResponse) {
    // Parsed, matched no transaction, dropped (RFC 3261 §18.1.2).
    expect(statuses).toEqual([]);
    expect(after.strayResponses).toBe(before.strayResponses + 1);
    expect(after.malformed).toBe(before.malformed);
  } else if (outcome.kind === 'accept') {
    const served = outcome.served ?? 200;
    expect(statuses).toEqual([served]);
    expect(headerOf(answers[0]!, 'Call-ID', 'i')).toBe(callId);
    const seen = suite.sut.seen.get(callId);
    if (served === 200) {
      expect(seen, 'the app saw the request').toBeDefined();
      if (tc.appSees !== undefined) expect(seen!.get(tc.appSees.header)).toBe(tc.appSees.value);
      if (tc.appBody !== undefined) expect(Buffer.from(seen!.body, 'utf8').equals(tc.appBody)).toBe(true);
    } else expect(seen).toBeUndefined();
    // The app saw this request (when it is one it routes) and the probe, nothing else.
    expect(suite.sut.seen.size).toBe(seenBefore + (served === 200 ? 2 : 1));
    expect(after.malformed).toBe(before.malformed);
  } else {
    expect(statuses).toEqual(outcome.kind === 'refuse' ? [outcome.status] : []);
    expect(suite.sut.seen.has(callId), 'the app never sees a refused request').toBe(false);
    expect(suite.sut.seen.size, 'the app saw only the probe').toBe(seenBefore + 1);
    expect(after.malformed).toBeGreaterThan(before.malformed);
    if (isResponse) expect(after.strayResponses).toBe(before.strayResponses);
  }
  if (tc.unseenCallId !== undefined) expect(suite.sut.seen.has(tc.unseenCallId(c))).toBe(false);
  if (stream?.closes !== true && transport === 'TCP') expect(client.closed, 'a well-framed message does not cost the connection').toBe(false);
}

for (const transport of ['UDP', 'TCP'] as const) {
  const applies = (tc: TortureCase): boolean => transport === 'UDP' || tc.stream !== 'skip';
  describe(`over ${transport}`, () => {
    describe('invalid requests get their status or no answer, and the server keeps serving', () => {
      it.each(INVALID_REQUESTS.filter(applies).map((tc) => [tc.name, tc] as const))('%s', async (_n, tc) => run(transport, tc, false));
    });
    describe('invalid responses are dropped and counted as malformed', () => {
      it.each(INVALID_RESPONSES.filter(applies).map((tc) => [tc.name, tc] as const))('%s', async (_n, tc) => run(transport, tc, true));
    });
    describe('valid but strange requests reach the app and are answered', () => {
      it.each(VALID_CASES.filter(applies).map((tc) => [tc.name, tc] as const))('%s', async (_n, tc) => run(transport, tc, false));
    });
    describe('valid responses matching no transaction are dropped as stray', () => {
      it.each(VALID_RESPONSES.filter(applies).map((tc) => [tc.name, tc] as const))('%s', async (_n, tc) => run(transport, tc, true));
    });
  });
}
