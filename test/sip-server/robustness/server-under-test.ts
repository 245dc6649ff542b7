/**
 * The real embedded SIP server started in-process with an unmodified
 * drachtio-srf app connected to it, for the robustness tests: OPTIONS are
 * answered 200, INVITEs either become real dialogs (createUAS) or are refused
 * 486, and every request the app sees is recorded by Call-ID.
 */
import type Srf from 'drachtio-srf';
import { createLogger } from '../../../src/observability/logger.js';
import { connectApp, disconnectApp, startServer, type Harness } from '../../support/harness.js';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { CaseContext } from '../../support/sip-fixtures/builder.js';
import { RawClient, type Transport } from './raw-client.js';

export interface SeenRequest {
  readonly method: string;
  readonly body: string;
  get(header: string): string | undefined;
}

export interface ServerUnderTest {
  readonly harness: Harness;
  /** Requests the app received, by Call-ID. */
  readonly seen: Map<string, SeenRequest>;
  /**
   * Error-level log lines of the server. The server catches exceptions from
   * message handling to keep serving; this is where such a hidden failure shows.
   */
  readonly errors: string[];
  port(transport: Transport): number;
  stop(): Promise<void>;
}

export const ANSWER_SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

interface SrfReq {
  readonly method: string;
  readonly body: string | undefined;
  get(name: string): string | undefined;
}
interface SrfRes {
  send(status: number): void;
}

export async function startServerUnderTest(opts: { maxMessageBytes: number; invite: 'dialog' | 'busy' }): Promise<ServerUnderTest> {
  // Short RFC timers so that transactions left by the tests end within seconds.
  const errors: string[] = [];
  // Silent but for errors, which are kept for the tests to check.
  const logger = createLogger({ level: 'error', destination: { write: (line: string) => void errors.push(line) } });
  const harness = await startServer({ cdrs: false, logger, maxMessageBytes: opts.maxMessageBytes, timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 5000 } });
  const seen = new Map<string, SeenRequest>();
  const record = (req: SrfReq): void => {
    const callId = req.get('Call-ID');
    if (callId !== undefined) seen.set(callId, { method: req.method, body: req.body ?? '', get: (h) => req.get(h) });
  };
  let srf: Srf;
  try {
    srf = await connectApp(harness, (app) => {
      app.use('options', (req: SrfReq, res: SrfRes) => {
        record(req);
        res.send(200);
      });
      app.invite((req: SrfReq, res: SrfRes) => {
        record(req);
        if (opts.invite === 'busy') res.send(486);
        else void app.createUAS(req as never, res as never, { localSdp: ANSWER_SDP }).catch(() => undefined);
      });
    });
  } catch (e) {
    await harness.stop();
    throw e;
  }
  return {
    harness,
    seen,
    errors,
    port: (t) => (t === 'UDP' ? harness.udp.port : harness.tcp.port),
    stop: async () => {
      disconnectApp(srf);
      await harness.stop();
    },
  };
}

/** What a robustness test file gets from `useServerUnderTest`. */
export interface ServerSuite {
  /** The running server (set in beforeAll). */
  readonly sut: ServerUnderTest;
  /** A raw client connected to the server over `transport`, closed after the test. */
  readonly open: (transport: Transport) => Promise<RawClient>;
  /** A fresh case context (unique id) addressed from `client`. */
  readonly context: (transport: Transport, client: RawClient) => CaseContext;
}

/**
 * Registers the suite hooks every robustness file shares: one server for the
 * file, clients closed after each test, and after each test the check that
 * the server logged no internal error (its guard would otherwise hide one).
 */
export function useServerUnderTest(opts: { maxMessageBytes: number; invite: 'dialog' | 'busy' }, idPrefix: string): ServerSuite {
  let sut: ServerUnderTest | undefined;
  const clients: RawClient[] = [];
  let counter = 0;
  beforeAll(async () => {
    sut = await startServerUnderTest(opts);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    expect(sut!.errors, 'the server logged no internal error').toEqual([]);
  });
  afterAll(async () => {
    await sut?.stop();
  });
  return {
    get sut() {
      return sut!;
    },
    open: async (transport) => {
      const c = await RawClient.open(transport, sut!.port(transport));
      clients.push(c);
      return c;
    },
    context: (transport, client) => {
      counter++;
      return { transport, host: '127.0.0.1', port: client.port, id: `${idPrefix}${process.pid}n${counter}${transport.toLowerCase()}` };
    },
  };
}
