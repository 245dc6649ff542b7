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
 * receiver make of a code it does not know anyway.
 */
import { createRequire } from 'node:module';

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
