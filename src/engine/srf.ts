/**
 * The engine's view of drachtio-srf: its own type declarations re-exported
 * under our names, so the rest of the engine imports from one place.
 */
import Srf from 'drachtio-srf';

export { Srf };
export type SrfRequest = Srf.SrfRequest;
export type SrfResponse = Srf.SrfResponse;
export type SrfDialog = Srf.Dialog;

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
