/**
 * After a storm of every malformed case, garbage and stray responses, over
 * UDP and TCP, a real call still works end to end through the unmodified
 * drachtio-srf app: INVITE → 100 → 200 (createUAS) → ACK → BYE → 200, and the
 * dialog is gone afterwards (RFC 3261 §13, §15; issue 2 "the server keeps
 * serving").
 */
import { describe, expect, it } from 'vitest';
import { callIdOf, requestBytes } from '../../support/sip-fixtures/builder.js';
import { INVALID_REQUESTS, INVALID_RESPONSES } from '../../support/sip-fixtures/invalid-cases.js';
import { headerOf, statusOf, type Transport } from './raw-client.js';
import { useServerUnderTest } from './server-under-test.js';
import { wellFormedProblems } from './well-formed.js';

const suite = useServerUnderTest({ maxMessageBytes: 16384, invite: 'dialog' }, 's');
const { open, context: ctx } = suite;

const OFFER = ['v=0', 'o=- 7 7 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 41000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/** Sends every malformed case (on one UDP socket, or one TCP connection per framing error) without waiting for answers. */
async function storm(transport: Transport): Promise<void> {
  let client = await open(transport);
  for (const tc of [...INVALID_REQUESTS, ...INVALID_RESPONSES]) {
    if (transport === 'TCP' && tc.stream === 'skip') continue;
    if (client.closed) client = await open(transport);
    await client.send(tc.build(ctx(transport, client))).catch(() => undefined);
    // A framing error closes the connection; give the close a moment to land before the next case.
    if (transport === 'TCP' && tc.stream !== undefined) await client.waitClosed(500);
  }
  for (let i = 0; i < 20; i++) {
    if (client.closed) client = await open(transport);
    const junk = Buffer.from(`${'\u0000\u00ff<>;,"'.repeat(i + 1)}\r\n\r\n`, 'latin1');
    await client.send(junk).catch(() => undefined);
  }
}

async function call(transport: Transport): Promise<void> {
  const client = await open(transport);
  const c = ctx(transport, client);
  const isCall = (b: Buffer): boolean => headerOf(b, 'Call-ID', 'i') === callIdOf(c);
  await client.send(requestBytes(c, { method: 'INVITE', uri: 'sip:1000@example.org', extra: ['Content-Type: application/sdp'], body: OFFER }));
  expect(await client.waitFor((b) => isCall(b) && statusOf(b) === 100, 3000), '100 Trying').toBeDefined();
  const ok = await client.waitFor((b) => isCall(b) && statusOf(b) === 200, 3000);
  expect(ok, '200 OK from the app').toBeDefined();
  expect(wellFormedProblems(ok!)).toEqual([]);
  const toTag = /;\s*tag=([^;\s,]+)/i.exec(headerOf(ok!, 'To', 't') ?? '')?.[1];
  expect(toTag).toBeDefined();
  const target = /<([^>]+)>/.exec(headerOf(ok!, 'Contact', 'm') ?? '')?.[1] ?? 'sip:1000@example.org';
  const inDialog = (method: string, seq: number): Buffer =>
    requestBytes(c, {
      method,
      uri: target,
      to: `<sip:desk@example.org>;tag=${toTag}`,
      cseq: `${seq} ${method}`,
      via: `SIP/2.0/${transport} 127.0.0.1:${client.port};branch=z9hG4bK${c.id}${method.toLowerCase()};rport`,
    });
  await client.send(inDialog('ACK', 1));
  await client.send(inDialog('BYE', 2));
  const byeOk = await client.waitFor((b) => isCall(b) && statusOf(b) === 200 && /BYE/i.test(headerOf(b, 'CSeq') ?? ''), 3000);
  expect(byeOk, '200 to the BYE').toBeDefined();
  const deadline = Date.now() + 3000;
  while (suite.sut.harness.server.status().dialogs > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(suite.sut.harness.server.status().dialogs).toBe(0);
}

describe('the server keeps serving calls after hostile input', () => {
  for (const transport of ['UDP', 'TCP'] as const) {
    it(`over ${transport}: a storm of malformed messages, then a complete call`, async () => {
      const before = suite.sut.harness.server.status().malformed;
      await storm(transport);
      await call(transport);
      expect(suite.sut.harness.server.status().malformed).toBeGreaterThan(before + INVALID_REQUESTS.length / 2);
    });
  }
});
