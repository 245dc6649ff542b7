/** The HTTP CRM adapter's wire behaviour and how it classifies every kind of answer. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartUpload } from '../../src/recordings/crm/crm-adapter.js';
import { HttpCrmAdapter } from '../../src/recordings/crm/http-crm-adapter.js';
import { parseRetryAfter } from '../../src/recordings/crm/retry-after.js';
import { CrmError } from '../../src/recordings/errors.js';
import { eventually } from '../support/harness.js';

const servers: { close: () => void; closeAllConnections: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void, readBody = true): Promise<string> {
  const server = createServer((req, res) => {
    if (!readBody) return handler(req, res, Buffer.alloc(0));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/recordings`;
}

function part(size = 5000, over: Partial<PartUpload> = {}): PartUpload {
  const data = Buffer.alloc(size, 7);
  return {
    recordingId: 'rec-1',
    ticketId: 'T-9',
    partNumber: 2,
    partsPlanned: 3,
    idempotencyKey: 'rec-1/part-2/100-5100',
    fileName: 'rec-1-part002.wav',
    contentType: 'audio/wav',
    size,
    body: async function* () {
      for (let i = 0; i < data.length; i += 1000) yield data.subarray(i, i + 1000);
    },
    metadata: {
      callId: 'c1',
      kind: 'call',
      contact: { name: 'Phone User - 10/05 10:15', anonymous: true },
      startedAt: '2025-10-05T10:15:00.000Z',
      endedAt: '2025-10-05T10:20:00.000Z',
      durationMs: 300_000,
      pauses: [],
      format: 'wav',
      channels: 'stereo',
      partOffsetMs: 0,
      partDurationMs: 1000,
    },
    ...over,
  };
}

async function failure(url: string, options: Partial<ConstructorParameters<typeof HttpCrmAdapter>[0]> = {}, p = part()): Promise<CrmError> {
  const e = await new HttpCrmAdapter({ url, ...options }).upload(p).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CrmError);
  return e as CrmError;
}

describe('HTTP CRM adapter', () => {
  it('POSTs multipart/form-data with the credential, the idempotency key and every field', async () => {
    let seen: { headers: IncomingMessage['headers']; body: string } | undefined;
    const url = await serve((req, res, body) => {
      seen = { headers: req.headers, body: body.toString('latin1') };
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"attachmentId":"att-77"}');
    });
    const receipt = await new HttpCrmAdapter({ url, authHeader: 'X-Api-Key', authValue: 'k-123' }).upload(part());
    expect(receipt).toEqual({ attachmentId: 'att-77', duplicate: false });
    expect(seen!.headers['x-api-key']).toBe('k-123');
    expect(seen!.headers['idempotency-key']).toBe('rec-1/part-2/100-5100');
    expect(seen!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(seen!.headers['content-length'])).toBe(seen!.body.length);
    for (const field of ['recordingId', 'ticketId', 'partNumber', 'partsPlanned', 'idempotencyKey', 'callId', 'contactName', 'metadata']) {
      expect(seen!.body).toContain(`name="${field}"`);
    }
    expect(seen!.body).toContain('Phone User - 10/05 10:15');
    expect(seen!.body).toContain('filename="rec-1-part002.wav"\r\nContent-Type: audio/wav\r\n\r\n');
  });

  it('reads the confirmation from a configurable field, and treats its absence as unconfirmed (retryable)', async () => {
    const url = await serve((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":42}'));
    expect(await new HttpCrmAdapter({ url, confirmationField: 'id' }).upload(part())).toMatchObject({ attachmentId: '42' });
    const e = await failure(url);
    expect(e.kind).toBe('retryable');
    expect(e.message).toContain('without confirming');
  });

  it('treats a negative confirmation as unconfirmed, even with an id', async () => {
    const url = await serve((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"attachmentId":"a1","ok":false,"error":"virus scan pending"}'));
    const e = await failure(url);
    expect(e.kind).toBe('retryable');
    expect(e.message).toContain('negative confirmation');
  });

  it('treats a 200 that is not JSON as unconfirmed', async () => {
    const url = await serve((_q, res) => res.writeHead(200).end('OK'));
    expect((await failure(url)).kind).toBe('retryable');
  });

  it.each<[number, string, CrmError['kind']]>([
    [429, '', 'rate-limited'],
    [413, '', 'too-large'],
    [500, '', 'retryable'],
    [503, '', 'retryable'],
    [401, '', 'retryable'],
    [408, '', 'retryable'],
    [400, 'bad ticket', 'rejected'],
    [404, '', 'rejected'],
    [422, '', 'rejected'],
  ])('classifies HTTP %i as %s', async (status, body, kind) => {
    const url = await serve((_q, res) => res.writeHead(status).end(body));
    const e = await failure(url);
    expect(e.kind).toBe(kind);
    expect(e.details.status).toBe(status);
  });

  it('refuses on a redirect (3xx), saying it was one and where to, without credentials or query', async () => {
    const url = await serve((_q, res) => res.writeHead(302, { location: 'https://user:pw@crm2.example.com/api/v2/recordings?token=SECRET' }).end());
    const e = await failure(url);
    expect(e.kind).toBe('rejected');
    expect(e.details.status).toBe(302);
    expect(e.message).toContain('redirected');
    expect(e.message).toContain('with 302 to https://crm2.example.com/api/v2/recordings');
    expect(e.message).not.toMatch(/SECRET|pw@/);
    const relative = await serve((_q, res) => res.writeHead(308, { location: '/elsewhere' }).end());
    expect((await failure(relative)).message).toContain(`with 308 to ${new URL(relative).origin}/elsewhere`);
    const none = await serve((_q, res) => res.writeHead(301).end());
    expect((await failure(none)).message).toContain('with 301 without a Location');
  });

  it('passes Retry-After on (seconds and HTTP-date)', async () => {
    const url = await serve((_q, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    expect((await failure(url)).details.retryAfterMs).toBe(7000);
    const date = new Date(Date.now() + 30_000).toUTCString(); // whole seconds
    const url2 = await serve((_q, res) => res.writeHead(503, { 'retry-after': date }).end());
    const before = Date.now();
    const ms = (await failure(url2)).details.retryAfterMs!;
    const after = Date.now();
    // the time left until that date, as the adapter saw it between the two clock readings
    expect(ms).toBeGreaterThanOrEqual(Date.parse(date) - after);
    expect(ms).toBeLessThanOrEqual(Date.parse(date) - before);
  });

  it('takes an early answer (413 before the body is read) over the broken pipe that follows', async () => {
    const url = await serve((_q, res) => res.writeHead(413, { connection: 'close' }).end('too big'), false);
    const e = await failure(url, {}, part(2_000_000));
    expect(e.kind).toBe('too-large');
  });

  it('asks for 100 Continue: a CRM that refuses at the headers (413, 429, as nginx and API gateways do) is understood every time, and the part is never read', async () => {
    const server = createServer(() => undefined);
    servers.push(server);
    let refused = 0;
    // Like nginx over client_max_body_size: the final answer instead of 100 Continue, then the connection is closed.
    server.on('checkContinue', (_q, res) => {
      refused++;
      if (refused % 2 === 1) res.writeHead(413, { connection: 'close' }).end('too big');
      else res.writeHead(429, { connection: 'close', 'retry-after': '7' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/recordings`;
    let opened = 0;
    const big = part(8_000_000);
    const counted = { ...big, body: () => (opened++, big.body()) };
    const kinds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const e = await failure(url, {}, counted);
      kinds.push(e.kind === 'rate-limited' ? `${e.kind} ${e.details.retryAfterMs}` : e.kind);
    }
    expect(kinds).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'too-large' : 'rate-limited 7000')));
    expect(opened).toBe(0);
  });

  it('sends the body anyway to a CRM that never says 100 Continue, and drops the expectation for one that answers 417', async () => {
    const expects: (string | undefined)[] = [];
    const server = createServer((q, res) => {
      expects.push(q.headers.expect);
      q.resume();
      q.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(`{"attachmentId":"att-${expects.length}"}`));
    });
    servers.push(server);
    let answered417 = false;
    server.on('checkContinue', (q, res) => {
      if (!answered417) {
        answered417 = true;
        res.writeHead(417, { connection: 'close' }).end();
        return;
      }
      // Takes the request without a 100 Continue: the client must not wait for ever.
      server.emit('request', q, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/recordings`;
    const silent = new HttpCrmAdapter({ url });
    const e = await silent.upload(part()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ kind: 'retryable', message: expect.stringMatching(/does not take Expect: 100-continue \(417\)/) });
    expect(await silent.upload(part())).toEqual({ attachmentId: 'att-1', duplicate: false });
    expect(await new HttpCrmAdapter({ url }).upload(part())).toEqual({ attachmentId: 'att-2', duplicate: false });
    expect(expects).toEqual([undefined, '100-continue']);
  });

  it("an early answer ends the sending too: the part's body is closed, not left waiting for a drain that never comes", async () => {
    // It answers once the body has begun (after its 100 Continue), and reads no more of it.
    const url = await serve((q, res) => q.once('data', () => res.writeHead(413).end('too big')), false);
    let closed = false;
    const big = part(8_000_000);
    const e = await failure(url, {}, {
      ...big,
      body: async function* () {
        try {
          yield* big.body();
        } finally {
          closed = true;
        }
      },
    });
    expect(e.kind).toBe('too-large');
    await eventually(() => closed, 10_000, "the part's body closed");
  });

  it('a large part sent under back-pressure leaves no listeners behind on the request (no MaxListenersExceededWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const url = await serve((_q, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"attachmentId":"att-big"}'));
      expect(await new HttpCrmAdapter({ url }).upload(part(8_000_000))).toEqual({ attachmentId: 'att-big', duplicate: false });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('gives up waiting for an answer after the response timeout (retryable)', async () => {
    const url = await serve(() => undefined);
    const e = await failure(url, { responseTimeoutMs: 200 });
    expect(e.kind).toBe('retryable');
    expect(e.message).toContain('did not answer');
  });

  it('waits for the answer of a CRM slower to answer than the idle timeout: the response timeout applies once the body is sent', async () => {
    let posts = 0;
    let stored = 0;
    const url = await serve((_q, res, body) => {
      posts++;
      stored += body.length > 0 ? 1 : 0;
      // the whole body is in; the CRM takes longer than idleTimeoutMs to store it and answer
      setTimeout(() => res.writeHead(201, { 'content-type': 'application/json' }).end('{"attachmentId":"att-slow"}'), 600);
    });
    const receipt = await new HttpCrmAdapter({ url, idleTimeoutMs: 100, responseTimeoutMs: 60_000 }).upload(part(50_000));
    expect(receipt).toEqual({ attachmentId: 'att-slow', duplicate: false });
    expect(posts).toBe(1);
    expect(stored).toBe(1);
  });

  it('still cuts a connection that stalls while the body is being sent (idle timeout), and one whose answer stalls midway', async () => {
    // The CRM never reads the body: the writes fill the socket buffers and the connection stalls.
    const stalled = await serve(() => undefined, false);
    const e = await failure(stalled, { idleTimeoutMs: 200, responseTimeoutMs: 60_000 }, part(16_000_000));
    expect(e.kind).toBe('retryable');
    expect(e.message).toContain('stalled for 200 ms while sending');

    // The CRM starts its answer, then stops sending it.
    const halfAnswer = await serve((_q, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"attachmentId":');
    });
    const e2 = await failure(halfAnswer, { idleTimeoutMs: 200, responseTimeoutMs: 60_000 });
    expect(e2.kind).toBe('retryable');
    expect(e2.message).toContain('while receiving the answer');
  });

  it('reports a dropped connection as retryable', async () => {
    const url = await serve((req) => req.socket.destroy(), false);
    expect((await failure(url)).kind).toBe('retryable');
  });

  it('reports an unreachable CRM as retryable', async () => {
    const url = await serve(() => undefined);
    for (const s of servers.splice(0)) s.close();
    expect((await failure(url)).kind).toBe('retryable');
  });

  it('never puts the credential into an error message, even when the CRM echoes it back', async () => {
    const url = await serve((_q, res) => res.writeHead(400).end('nope'));
    const e = await failure(url, { authValue: 'Bearer TOPSECRET' });
    expect(`${e.message} ${JSON.stringify(e.details)}`).not.toContain('TOPSECRET');
    const echoing = await serve((q, res) => res.writeHead(401).end(`invalid credential: ${q.headers.authorization ?? ''} (token TOPSECRET)`));
    const echoed = await failure(echoing, { authValue: 'Bearer TOPSECRET' });
    expect(echoed.message).toMatch(/invalid credential: \*\*\* \(token \*\*\*\)/);
    expect(echoed.message).not.toContain('TOPSECRET');
  });

  it('stops the upload if the part cannot be read (e.g. failed authentication of the file)', async () => {
    const url = await serve((_q, res) => res.writeHead(201).end('{"attachmentId":"x"}'));
    const broken = part(5000, {
      body: async function* () {
        yield Buffer.alloc(1000);
        throw new Error('chunk 1 failed authentication');
      },
    });
    await expect(new HttpCrmAdapter({ url }).upload(broken)).rejects.toThrow('failed authentication');
  });
});

describe('Retry-After parsing (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds and HTTP-dates, and ignores nonsense', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:50:37 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:40:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
