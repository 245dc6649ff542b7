/** The shape of a torture case, shared by the parser unit tests and the tests against the running server. */
import type { CaseContext } from './builder.js';

/**
 * What must happen to a message:
 * - accept: it parses; the running server serves it (`served`: the status it
 *   answers, 200 from the test app by default);
 * - refuse: it is refused and answered with `status`;
 * - drop: it is refused and nothing is sent back (a response, a message with
 *   nothing to address a response to, an ACK).
 */
export type Outcome = { readonly kind: 'accept'; readonly served?: number } | { readonly kind: 'refuse'; readonly status: 400 | 505 | 513 } | { readonly kind: 'drop' };

export interface TortureCase {
  /** Names the property and the rule it checks. */
  readonly name: string;
  readonly build: (c: CaseContext) => Buffer;
  /** As a datagram, and as parseMessage decides it. */
  readonly expect: Outcome;
  /**
   * Over a stream (TCP), when it differs: `skip` for properties that only
   * exist in a datagram (a stream waits for the bytes Content-Length
   * promises), or an outcome after which the server closes the connection
   * (framing errors cannot be resynchronised).
   */
  readonly stream?: 'skip' | (Outcome & { readonly closes: boolean });
  /** For accepted requests the app answers: a header whose value must reach the app unchanged. */
  readonly appSees?: { readonly header: string; readonly value: string };
  /** The app must receive exactly this body. */
  readonly appBody?: Buffer;
  /** A Call-ID that also appears in the bytes but must never reach the app. */
  readonly unseenCallId?: (c: CaseContext) => string;
}

export const accept = (served?: number): Outcome => (served === undefined ? { kind: 'accept' } : { kind: 'accept', served });
export const refuse = (status: 400 | 505 | 513 = 400): Outcome => ({ kind: 'refuse', status });
export const drop: Outcome = { kind: 'drop' };
