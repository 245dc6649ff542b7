/**
 * drachtio-srf sends only the statuses its table (the `sip-status` package)
 * lists: any other throws out of `Response#send`, and a throw there, in an
 * event of the SIP stack, ends the whole process. Yet statuses come from the
 * network: a gateway refusing a deflected call with 607 Unwanted or 608
 * Rejected (RFC 8688, RFC 8197: robocall blocking) is relayed to the caller.
 *
 * The codes of the IANA SIP response registry that table lacks are added to
 * it (the very table drachtio-srf reads, so they go out as they are), and any
 * other code is sent as its class's x00: what RFC 3261 §8.1.3.2 has a
 * receiver make of a code it does not know anyway. `sendFinal` is how the
 * adapter (srf-port.ts, srf-leg.ts) sends every final response it makes.
 */
import { createRequire } from 'node:module';
import type { SrfResponse } from 'drachtio-srf';

/** Registered codes (IANA "Response Codes", RFC 3261 and later) that sip-status 0.x lacks. */
const REGISTERED: Readonly<Record<number, string>> = {
  199: 'Early Dialog Terminated',
  204: 'No Notification',
  417: 'Unknown Resource-Priority',
  425: 'Bad Alert Message',
  440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package',
  555: 'Push Notification Service Not Supported',
  607: 'Unwanted',
  608: 'Rejected',
};

const requireFromSrf = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'));
const table = requireFromSrf('sip-status') as Record<number, string>;
for (const [code, phrase] of Object.entries(REGISTERED)) if (!(Number(code) in table)) table[Number(code)] = phrase;

/** `status` if drachtio-srf can send it, else its class's x00 (100-699), else 500. */
export function sendableStatus(status: number): number {
  if (Number.isInteger(status) && status in table) return status;
  if (Number.isInteger(status) && status >= 100 && status <= 699) return Math.floor(status / 100) * 100;
  return 500;
}

/** Header values for res.send: a list becomes that many fields (drachtio-srf would join them with commas). */
export function sendableHeaders(headers: Readonly<Record<string, string | readonly string[]>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const values = typeof value === 'string' ? [value] : value;
    if (values.length === 0) continue;
    if (values.some((v) => /[\r\n]/.test(v))) throw new Error(`header ${name} contains a line break`);
    out[name] = values.join(`\r\n${name}: `);
  }
  return out;
}

/**
 * Sends a final response through drachtio-srf: its status made sendable, the reason phrase kept only
 * when the status is (a code sent as its class's x00 takes that class's phrase, not one contradicting it).
 */
export function sendFinal(res: SrfResponse, status: number, reason: string | undefined, headers: Readonly<Record<string, string | readonly string[]>>): void {
  const code = sendableStatus(status);
  const opts = { headers: sendableHeaders(headers) };
  if (code === status && reason !== undefined) res.send(code, reason, opts);
  else res.send(code, opts);
}
