/**
 * A local HTTP server standing in for a CRM's upload API (multipart/form-data,
 * RFC 7578), honouring Idempotency-Key like a careful real CRM, with faults
 * injected on demand: status codes (429 + Retry-After, 500, 413), answers that
 * never come, connections dropped mid-upload, a part stored but the answer
 * lost, slow answers and answers without a confirmation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly body?: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'store-then-drop' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'unconfirmed' };

export interface Attachment {
  readonly attachmentId: string;
  readonly recordingId: string;
  readonly ticketId?: string;
  readonly partNumber: number;
  readonly idempotencyKey: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly bytes: Buffer;
  readonly fields: Record<string, string>;
  readonly at: number;
}

export interface RequestLog {
  /** When the request arrived, and when its body had been read. */
  readonly startedAt: number;
  readonly at: number;
  readonly recordingId?: string;
  readonly partNumber?: number;
  readonly idempotencyKey?: string;
  readonly authorization?: string;
  readonly size: number;
  readonly outcome: string;
}

export interface FakeCrmOptions {
  /** Decides a fault for each request (after the body is read), or none. */
  readonly fault?: (req: { readonly n: number; readonly recordingId: string; readonly partNumber: number; readonly size: number }) => Fault | undefined;
  /** Files larger than this get 413. */
  readonly maxFileBytes?: number;
  /** Required value of the Authorization header. */
  readonly token?: string;
  /** Called when a request arrives, before its body is read (lets a test act mid-upload). */
  readonly onRequest?: (n: number) => void;
  /** Drop the connection as soon as the first bytes of request n arrive (mid-upload). */
  readonly dropEarly?: (n: number) => boolean;
}

interface Part {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

function parseMultipart(body: Buffer, contentType: string): Part[] {
  const m = /boundary=([^;]+)/.exec(contentType);
  if (m === null) throw new Error('no boundary');
  const delimiter = Buffer.from(`--${m[1]!}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0) throw new Error('unterminated part');
    const chunk = body.subarray(start + 2, next);
    const split = chunk.indexOf('\r\n\r\n');
    const head = chunk.subarray(0, split).toString('utf8');
    const data = chunk.subarray(split + 4);
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    const ct = /Content-Type: (.*)/i.exec(head)?.[1]?.trim();
    parts.push({ name, data, ...(filename !== undefined ? { filename } : {}), ...(ct !== undefined ? { contentType: ct } : {}) });
    pos = next + 2;
  }
  return parts;
}

export class FakeCrm {
  private server: Server | undefined;
  private n = 0;
  readonly attachments: Attachment[] = [];
  readonly byKey = new Map<string, Attachment>();
  readonly requests: RequestLog[] = [];
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  constructor(private readonly o: FakeCrmOptions = {}) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/upload`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server !== undefined ? this.server.close(() => resolve()) : resolve()));
  }

  /** Attachments of one recording in the order the CRM stored them. */
  partsOf(recordingId: string): Attachment[] {
    return this.attachments.filter((a) => a.recordingId === recordingId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = ++this.n;
    const startedAt = Date.now();
    this.o.onRequest?.(n);
    const chunks: Buffer[] = [];
    let dropped = false;
    const early = this.o.dropEarly?.(n) === true;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      if (early) req.socket.destroy();
    });
    await new Promise<void>((resolve) => {
      req.on('end', resolve);
      req.on('error', () => {
        dropped = true;
        resolve();
      });
      req.on('close', resolve);
    });
    const at = Date.now();
    const log = (outcome: string, extra: Partial<RequestLog> = {}): void => {
      this.requests.push({ startedAt, at, size: chunks.reduce((s, c) => s + c.length, 0), outcome, authorization: req.headers.authorization, ...extra });
    };
    if (early) return log('dropped mid-upload');
    if (dropped || !req.complete) return log('incomplete request');
    if (this.o.token !== undefined && req.headers.authorization !== `Bearer ${this.o.token}`) {
      log('401');
      res.writeHead(401).end('bad credentials');
      return;
    }
    let parts: Part[];
    try {
      parts = parseMultipart(Buffer.concat(chunks), req.headers['content-type'] ?? '');
    } catch (e) {
      log('400');
      res.writeHead(400).end((e as Error).message);
      return;
    }
    const fields: Record<string, string> = {};
    for (const p of parts) if (p.filename === undefined) fields[p.name] = p.data.toString('utf8');
    const file = parts.find((p) => p.name === 'file');
    const key = req.headers['idempotency-key'];
    const info = { recordingId: fields.recordingId ?? '', partNumber: Number(fields.partNumber), size: file?.data.length ?? 0 };
    const base = { recordingId: info.recordingId, partNumber: info.partNumber, ...(typeof key === 'string' ? { idempotencyKey: key } : {}) };
    if (file === undefined || typeof key !== 'string' || key !== fields.idempotencyKey) {
      log('400', base);
      res.writeHead(400).end('file and a matching Idempotency-Key are required');
      return;
    }
    const previous = this.byKey.get(key);
    if (previous !== undefined) {
      log('duplicate', base);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ attachmentId: previous.attachmentId, duplicate: true }));
      return;
    }
    if (this.o.maxFileBytes !== undefined && file.data.length > this.o.maxFileBytes) {
      log('413', base);
      res.writeHead(413, { connection: 'close' }).end('Payload Too Large');
      return;
    }
    const fault = this.o.fault?.({ n, ...info });
    const store = (): Attachment => {
      const a: Attachment = {
        attachmentId: `att-${this.attachments.length + 1}`,
        recordingId: info.recordingId,
        ...(fields.ticketId !== undefined ? { ticketId: fields.ticketId } : {}),
        partNumber: info.partNumber,
        idempotencyKey: key,
        fileName: file.filename ?? '',
        contentType: file.contentType ?? '',
        bytes: Buffer.from(file.data),
        fields,
        at,
      };
      this.attachments.push(a);
      this.byKey.set(key, a);
      return a;
    };
    switch (fault?.kind) {
      case 'status':
        log(String(fault.status), base);
        res.writeHead(fault.status, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}).end(fault.body ?? 'injected fault');
        return;
      case 'timeout':
        log('timeout', base);
        this.hanging.add(res);
        return;
      case 'drop':
        log('drop', base);
        req.socket.destroy();
        return;
      case 'store-then-drop':
        store();
        log('stored-then-drop', base);
        req.socket.destroy();
        return;
      case 'unconfirmed':
        log('unconfirmed', base);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"received"}');
        return;
      case 'slow': {
        // A slow CRM has stored the part before it gets round to answering.
        const a = store();
        log('stored-slowly', base);
        await new Promise((r) => setTimeout(r, fault.delayMs));
        if (!res.destroyed) res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ attachmentId: a.attachmentId }));
        return;
      }
      default:
        break;
    }
    const a = store();
    log('stored', base);
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ attachmentId: a.attachmentId }));
  }
}
