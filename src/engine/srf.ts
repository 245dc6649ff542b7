/**
 * The engine's view of drachtio-srf: its own type declarations re-exported
 * under our names, so the rest of the engine imports from one place.
 */
import Srf from 'drachtio-srf';

export { Srf };
export type SrfRequest = Srf.SrfRequest;
export type SrfResponse = Srf.SrfResponse;
export type SrfDialog = Srf.Dialog;

/**
 * What createUAC resolves with when `noAck` is set, no offer was sent and the
 * 200 carries the far end's offer (a delayed-offer call, RFC 3261 §13.2.1):
 * the ACK, which must carry our answer, is ours to send; `ack` sends it and
 * yields the dialog, `destroy` ACKs and hangs up a leg no longer wanted.
 */
export interface UnackedUac {
  readonly sdp: string;
  ack(localSdp: string): Promise<SrfDialog>;
  destroy(): Promise<void>;
}

export function isUnackedUac(value: unknown): value is UnackedUac {
  return typeof value === 'object' && value !== null && typeof (value as { ack?: unknown }).ack === 'function' && typeof (value as { sdp?: unknown }).sdp === 'string';
}

/** drachtio-srf rejects createUAC/createUAS with a SipError carrying the final status. */
export function sipStatusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const s = (err).status;
    if (typeof s === 'number') return s;
  }
  return undefined;
}

/** The user part of a Request-URI (the dialed number). */
export function dialedNumber(uri: string): string | undefined {
  const m = /^(?:sips?|tel):([^@;?]+)/i.exec(uri);
  if (m === null) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1];
  }
}
