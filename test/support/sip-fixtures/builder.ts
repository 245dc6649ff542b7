/**
 * Building raw SIP messages for parser and robustness tests, line by line, so
 * that a case can break exactly one thing (a start line, one header, the
 * Content-Length, the line ends) and leave the rest well-formed.
 */

/** Where the message claims to come from (Via sent-by, Contact) and a token unique to this send. */
export interface CaseContext {
  readonly transport: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
  readonly host: string;
  readonly port: number;
  /** Alphanumeric, unique per message sent: used in Call-ID, branch and tags. */
  readonly id: string;
}

/** A context for tests that never send (unit tests of the parser). */
export function offline(id = 'unit1'): CaseContext {
  return { transport: 'UDP', host: '192.0.2.10', port: 5060, id };
}

export interface RequestSpec {
  /** The whole start line (overrides method and uri). */
  readonly start?: string;
  readonly method?: string;
  readonly uri?: string;
  /** A header value, or null to leave the header out. */
  readonly via?: string | null;
  readonly maxForwards?: string | null;
  readonly from?: string | null;
  readonly to?: string | null;
  readonly callId?: string | null;
  readonly cseq?: string | null;
  readonly contact?: string | null;
  /** Whole header lines added after the standard ones. */
  readonly extra?: readonly string[];
  readonly body?: string | Buffer;
  /** The Content-Length value as written; default: the body's byte length; null: no Content-Length line. */
  readonly contentLength?: string | null;
  /** Line terminator (default CRLF). */
  readonly eol?: string;
}

export function defaultVia(c: CaseContext): string {
  return `SIP/2.0/${c.transport} ${c.host}:${c.port};branch=z9hG4bK${c.id};rport`;
}

export function callIdOf(c: CaseContext): string {
  return `${c.id}@robustness.test`;
}

/** A request from `c`, well-formed unless the spec says otherwise. */
export function requestBytes(c: CaseContext, spec: RequestSpec = {}): Buffer {
  const method = spec.method ?? 'OPTIONS';
  const uri = spec.uri ?? 'sip:desk@example.org';
  const transportParam = c.transport === 'UDP' ? '' : `;transport=${c.transport.toLowerCase()}`;
  const headers: [string, string | null][] = [
    ['Via', spec.via === undefined ? defaultVia(c) : spec.via],
    ['Max-Forwards', spec.maxForwards === undefined ? '70' : spec.maxForwards],
    ['From', spec.from === undefined ? `"Robot" <sip:robot@example.org>;tag=f${c.id}` : spec.from],
    ['To', spec.to === undefined ? '<sip:desk@example.org>' : spec.to],
    ['Call-ID', spec.callId === undefined ? callIdOf(c) : spec.callId],
    ['CSeq', spec.cseq === undefined ? `1 ${method}` : spec.cseq],
    ['Contact', spec.contact === undefined ? `<sip:robot@${c.host}:${c.port}${transportParam}>` : spec.contact],
  ];
  const lines = [spec.start ?? `${method} ${uri} SIP/2.0`];
  for (const [name, value] of headers) if (value !== null) lines.push(`${name}: ${value}`);
  lines.push(...(spec.extra ?? []));
  return assemble(lines, spec);
}

export interface ResponseSpec {
  readonly start?: string;
  readonly via?: string | null;
  readonly from?: string | null;
  readonly to?: string | null;
  readonly callId?: string | null;
  readonly cseq?: string | null;
  readonly extra?: readonly string[];
  readonly body?: string | Buffer;
  readonly contentLength?: string | null;
  readonly eol?: string;
}

/** A response as if answering a request `c` never sent to us (so it matches no transaction). */
export function responseBytes(c: CaseContext, spec: ResponseSpec = {}): Buffer {
  const headers: [string, string | null][] = [
    ['Via', spec.via === undefined ? `SIP/2.0/${c.transport} 192.0.2.77:5060;branch=z9hG4bKnobody${c.id}` : spec.via],
    ['From', spec.from === undefined ? `<sip:desk@example.org>;tag=f${c.id}` : spec.from],
    ['To', spec.to === undefined ? `<sip:robot@example.org>;tag=t${c.id}` : spec.to],
    ['Call-ID', spec.callId === undefined ? callIdOf(c) : spec.callId],
    ['CSeq', spec.cseq === undefined ? '1 OPTIONS' : spec.cseq],
  ];
  const lines = [spec.start ?? 'SIP/2.0 200 OK'];
  for (const [name, value] of headers) if (value !== null) lines.push(`${name}: ${value}`);
  lines.push(...(spec.extra ?? []));
  return assemble(lines, spec);
}

function assemble(lines: string[], spec: { body?: string | Buffer; contentLength?: string | null; eol?: string }): Buffer {
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'utf8');
  const cl = spec.contentLength === undefined ? String(body.length) : spec.contentLength;
  if (cl !== null) lines.push(`Content-Length: ${cl}`);
  const eol = spec.eol ?? '\r\n';
  return Buffer.concat([Buffer.from(`${lines.join(eol)}${eol}${eol}`, 'utf8'), body]);
}

/** Replaces the first occurrence of `from` in a message's bytes (as latin1, so any byte value survives). */
export function patch(buf: Buffer, from: string, to: string): Buffer {
  const text = buf.toString('latin1');
  const i = text.indexOf(from);
  if (i < 0) throw new Error(`patch: "${from}" not found`);
  return Buffer.from(text.slice(0, i) + to + text.slice(i + from.length), 'latin1');
}
