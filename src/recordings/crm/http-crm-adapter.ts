/**
 * A generic CRM upload API: each part is one `multipart/form-data` POST
 * (RFC 7578) with the part's metadata as form fields, the audio as the `file`
 * field, the credential in a configurable header and an `Idempotency-Key`
 * header (draft-ietf-httpapi-idempotency-key-header) that is stable per part.
 *
 * The answer is classified once, here: 2xx with a confirmation field is
 * success; 2xx without one, 5xx, 408/425, 401/403, timeouts and dropped
 * connections are retryable; 429 is rate-limited (Retry-After, RFC 9110
 * §10.2.3); 413 means "split further" (RFC 9110 §15.5.14); any other 4xx is a
 * refusal that retrying cannot fix, and so is a 3xx (a redirect is not followed;
 * its reason names where to). The body is streamed with back-pressure,
 * never held whole in memory.
 *
 * Each POST says `Expect: 100-continue` (RFC 9110 §10.1.1) and sends its body
 * only once the CRM says 100 Continue, or after a second without an answer (a
 * server that ignores the expectation): a CRM or a proxy in front of it (nginx
 * with `client_max_body_size`, an API gateway's rate limit) can then refuse a
 * part with 413 or 429 before it is sent. Refused without it, an upload is
 * often cut by the refusal (a broken pipe) before its answer can be read. A
 * CRM that answers 417 Expectation Failed is sent later parts without it.
 *
 * Two timers, one per phase of the exchange: `idleTimeoutMs` is the longest
 * stall of the connection while the body is being sent (and while the answer's
 * body streams in); `responseTimeoutMs` is how long the CRM may take to answer
 * once the whole body is sent (storing a large part can take a while; the
 * idle timer does not run then).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { CrmError } from '../errors.js';
import type { CrmAdapter, PartReceipt, PartUpload } from './crm-adapter.js';
import { parseRetryAfter } from './retry-after.js';

export interface HttpCrmOptions {
  readonly url: string;
  readonly authHeader?: string;
  /** Secret: sent, never logged or included in errors. */
  readonly authValue?: string;
  readonly confirmationField?: string;
  readonly responseTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
}

const MAX_RESPONSE = 64 * 1024;
/** How long a POST waits for 100 Continue before sending its body anyway (RFC 9110 §10.1.1: not indefinitely). */
const CONTINUE_WAIT_MS = 1000;
const RETRYABLE_4XX = new Set([401, 403, 408, 409, 425]);

/** The start of a CRM's answer, for events and logs: never the credential, should the CRM echo it back. */
function snippet(body: Buffer, secret: string | undefined): string {
  let text = body.subarray(0, 200).toString('utf8').replace(/[\r\n\t]+/g, ' ').trim();
  if (secret !== undefined) {
    // The whole value, and its token alone ("Bearer <token>" is often echoed as just the token).
    const token = secret.includes(' ') ? secret.slice(secret.lastIndexOf(' ') + 1) : undefined;
    for (const s of [secret, ...(token !== undefined && token.length >= 6 ? [token] : [])]) text = text.split(s).join('***');
  }
  return text === '' ? '' : ` (${text})`;
}

function quote(value: string): string {
  return value.replace(/["\\\r\n]/g, '_');
}

export class HttpCrmAdapter implements CrmAdapter {
  readonly name = 'http';
  private readonly url: URL;
  /** False once the CRM answered 417 to `Expect: 100-continue`. */
  private expectContinue = true;

  constructor(private readonly options: HttpCrmOptions) {
    this.url = new URL(options.url);
  }

  async upload(part: PartUpload, signal?: AbortSignal): Promise<PartReceipt> {
    const boundary = `switchboard-${randomBytes(16).toString('hex')}`;
    const fields: Record<string, string> = {
      recordingId: part.recordingId,
      partNumber: String(part.partNumber),
      partsPlanned: String(part.partsPlanned),
      idempotencyKey: part.idempotencyKey,
      callId: part.metadata.callId,
      contactName: part.metadata.contact.name,
      metadata: JSON.stringify(part.metadata),
      ...(part.ticketId !== undefined ? { ticketId: part.ticketId } : {}),
    };
    let pre = '';
    for (const [name, value] of Object.entries(fields)) {
      pre += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    }
    pre += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(part.fileName)}"\r\nContent-Type: ${part.contentType}\r\n\r\n`;
    const head = Buffer.from(pre, 'utf8');
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
    const headers: Record<string, string | number> = {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + part.size + tail.length,
      'idempotency-key': part.idempotencyKey,
      accept: 'application/json',
    };
    const expecting = this.expectContinue;
    if (expecting) headers.expect = '100-continue';
    if (this.options.authValue !== undefined) headers[(this.options.authHeader ?? 'Authorization').toLowerCase()] = this.options.authValue;
    const label = `part ${part.partNumber} of recording ${part.recordingId}`;
    const transport = this.url.protocol === 'https:' ? https : http;

    const idleMs = this.options.idleTimeoutMs ?? 30_000;
    const responseMs = this.options.responseTimeoutMs ?? 60_000;

    return new Promise<PartReceipt>((resolve, reject) => {
      let settled = false;
      let responded = false;
      // sending the body (idle timer) → waiting for the answer (response timer) → reading its body (idle timer)
      let phase: 'sending' | 'waiting' | 'receiving' = 'sending';
      let responseTimer: NodeJS.Timeout | undefined;
      let continueTimer: NodeJS.Timeout | undefined = undefined;
      const req = transport.request(this.url, { method: 'POST', headers, agent: false });
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        if (responseTimer !== undefined) clearTimeout(responseTimer);
        if (continueTimer !== undefined) clearTimeout(continueTimer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const fail = (e: unknown): void => finish(() => reject(e instanceof Error ? e : new Error(String(e))));
      const onAbort = (): void => {
        req.destroy(new CrmError('retryable', `upload of ${label} was cancelled`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      req.setTimeout(idleMs);
      req.on('timeout', () => {
        if (phase === 'waiting') return; // the response timer's phase
        const what = phase === 'sending' ? `while sending ${label}` : `while receiving the answer to ${label}`;
        req.destroy(new CrmError('retryable', `the CRM connection stalled for ${idleMs} ms ${what}`));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof CrmError) return fail(e);
        fail(new CrmError('retryable', `could not deliver ${label}: ${e.code ?? e.message}`, {}, { cause: e }));
      });
      req.on('response', (res) => {
        responded = true;
        phase = 'receiving';
        if (responseTimer !== undefined) clearTimeout(responseTimer);
        if (continueTimer !== undefined) clearTimeout(continueTimer);
        req.setTimeout(idleMs);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_RESPONSE) chunks.push(c);
          size += c.length;
        });
        res.on('error', (e) => fail(new CrmError('retryable', `the CRM's answer to ${label} was cut off: ${e.message}`, {}, { cause: e })));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          try {
            const receipt = this.classify(res.statusCode ?? 0, res.headers, body, label, expecting);
            finish(() => resolve(receipt));
          } catch (e) {
            fail(e);
          }
          req.destroy();
        });
      });

      const send = async (): Promise<void> => {
        const write = async (chunk: Buffer): Promise<void> => {
          if (req.write(chunk)) return;
          // A request destroyed meanwhile (the CRM answered early, a timeout) never drains: its close ends
          // the wait. The listener that lost is removed, or every back-pressured write of a large part
          // would leave two behind (MaxListenersExceededWarning).
          const waited = new AbortController();
          try {
            await Promise.race([once(req, 'drain', { signal: waited.signal }), once(req, 'close', { signal: waited.signal })]);
          } finally {
            waited.abort();
          }
        };
        await write(head);
        let sent = 0;
        for await (const chunk of part.body()) {
          if (responded || settled) return;
          sent += chunk.length;
          await write(chunk);
        }
        if (sent !== part.size) throw new CrmError('retryable', `${label}: produced ${sent} bytes, announced ${part.size}`);
        // Once the last byte is handed to the connection, the CRM has it all: from then on only the
        // response timer runs (an idle connection is the CRM storing the part, not a stall).
        req.once('finish', () => {
          if (responded || settled) return;
          phase = 'waiting';
          req.setTimeout(0);
          responseTimer = setTimeout(() => {
            req.destroy(new CrmError('retryable', `the CRM did not answer ${label} within ${responseMs} ms of receiving it`));
          }, responseMs);
        });
        req.end(tail);
      };
      let started = false;
      const start = (): void => {
        if (started || responded || settled) return;
        started = true;
        if (continueTimer !== undefined) clearTimeout(continueTimer);
        send().catch((e: unknown) => {
          // A CRM may answer (413, 429) before reading the whole body and close: its answer wins.
          if (responded) return;
          req.destroy();
          fail(e);
        });
      };
      if (!expecting) return start();
      // The body waits for 100 Continue; a final answer that came in the same packet is read first.
      req.on('continue', () => setImmediate(start));
      continueTimer = setTimeout(start, CONTINUE_WAIT_MS);
      req.flushHeaders();
    });
  }

  private classify(status: number, headers: http.IncomingHttpHeaders, body: Buffer, label: string, expected: boolean): PartReceipt {
    if (status >= 200 && status < 300) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const field = this.options.confirmationField ?? 'attachmentId';
      const reply = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
      const value = reply[field];
      // A 2xx that says no ({"ok": false}, {"success": false}, {"confirmed": false}) is not a confirmation.
      const negative = reply.ok === false || reply.success === false || reply.confirmed === false;
      if (!negative && ((typeof value === 'string' && value !== '') || typeof value === 'number')) {
        return { attachmentId: String(value), duplicate: reply.duplicate === true };
      }
      const why = negative ? 'a negative confirmation' : `no "${field}" in the reply`;
      throw new CrmError('retryable', `the CRM answered ${status} to ${label} without confirming it (${why})${snippet(body, this.options.authValue)}`, { status });
    }
    const wait = parseRetryAfter(headers['retry-after']);
    const details = { status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
    if (status === 429) return this.raise('rate-limited', `the CRM's API limit was reached (429) for ${label}${wait !== undefined ? `; retry after ${wait} ms` : ''}`, details);
    if (status === 413) return this.raise('too-large', `the CRM refused ${label} as too large (413)${snippet(body, this.options.authValue)}`, details);
    if (status === 417 && expected) {
      this.expectContinue = false;
      return this.raise('retryable', `the CRM does not take Expect: 100-continue (417) for ${label}; later parts are sent without it`, details);
    }
    if (status >= 500 || RETRYABLE_4XX.has(status)) return this.raise('retryable', `the CRM answered ${status} to ${label}${snippet(body, this.options.authValue)}`, details);
    if (status >= 300 && status < 400) {
      // Not followed: a part is a large streamed POST, and where the CRM takes it is configuration.
      const to = headers.location !== undefined ? `to ${this.redirectTarget(headers.location)}` : 'without a Location';
      return this.raise('rejected', `the CRM redirected ${label} with ${status} ${to}; redirects are not followed (set crm.http.url to the address that takes uploads)`, details);
    }
    return this.raise('rejected', `the CRM refused ${label} with ${status}${snippet(body, this.options.authValue)}`, details);
  }

  /** A redirect's target as events and logs may show it: no credentials, no query (it may hold a token). */
  private redirectTarget(location: string): string {
    try {
      const u = new URL(location, this.url);
      return `${u.origin}${u.pathname}`;
    } catch {
      return '(an unreadable Location)';
    }
  }

  private raise(kind: CrmError['kind'], message: string, details: CrmError['details']): never {
    throw new CrmError(kind, message, details);
  }
}
