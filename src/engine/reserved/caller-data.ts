/**
 * What a call's INVITE says about its caller, taken once at admission: from
 * a trusted trunk, the reserved properties (through the trunk's header
 * mapping), the STIR/SHAKEN attestation (verstat), the CRM ticket and the headers configured
 * to be passed on; from any other source, nothing, and every such header
 * that was sent anyway is logged as ignored. Nothing here throws: whatever the
 * headers say, the call goes on.
 */
import type { SwitchboardConfig } from '../../config/load.js';
import type { CallSession } from '../session/call-session.js';
import type { InboundTrunk } from '../trunks/inbound-trunks.js';
import { describeValue, isSafeHeaderValue } from './header-text.js';
import { readReservedHeaders } from './reserved-headers.js';
import { attestationOf } from './verstat.js';

/** The largest value of a header passed on (agent leg, data parameters). */
export const MAX_PASSED_VALUE_BYTES = 256;

type Lines = (name: string) => readonly string[];

/** Incoming headers the configuration copies outward (agent leg, data parameters). */
export function passedHeaderNames(config: SwitchboardConfig): string[] {
  const fromParams = config.redirection.sip.data_parameters.filter((d) => d.type === 'dynamic' && d.source === 'sip_header').map((d) => d.source_field!);
  return [...new Set([...config.reservedData.agentLeg.passHeaders, ...fromParams].map((n) => n.toLowerCase()))];
}

/** Every header any mapping reads: from an untrusted source, their presence is logged. */
export function mappedHeaderNames(config: SwitchboardConfig): string[] {
  return [...new Set(config.reservedData.headerMappings.flatMap((m) => m.headers.map((h) => h.name.toLowerCase())))];
}

function takeTrusted(session: CallSession, trunk: InboundTrunk, lines: Lines, config: SwitchboardConfig): void {
  const log = session.log;
  if (trunk.headerMapping !== undefined) {
    const reading = readReservedHeaders(trunk.headerMapping, lines);
    for (const p of reading.problems) log.warn({ header: p.header, reason: p.reason }, 'reserved data header refused: no flag set from it');
    for (const n of reading.notes) log.info({ header: n.header, reason: n.reason }, 'reserved data header: part ignored');
    for (const [p, value] of Object.entries(reading.values)) session.reserved.apply({ [p]: value }, `header:${reading.from[p as keyof typeof reading.from]}`);
  }
  const att = attestationOf(lines('P-Asserted-Identity'), lines('From'));
  if (att.problem !== undefined) log.warn({ reason: att.problem }, 'caller attestation refused');
  session.callerAttestation = att.value;
  for (const name of passedHeaderNames(config)) {
    const values = lines(name);
    if (values.length === 0) continue;
    const value = values[0]!;
    if (values.length > 1) log.warn({ header: name, reason: `given ${values.length} times` }, 'header not passed on');
    else if (!isSafeHeaderValue(value, MAX_PASSED_VALUE_BYTES)) log.warn({ header: name, reason: `not passed on: ${describeValue(value)} is empty, over ${MAX_PASSED_VALUE_BYTES} bytes or not printable ASCII` }, 'header not passed on');
    else session.inboundFields.set(name, value);
  }
  const ticketHeader = config.crm.ticket.header;
  if (ticketHeader !== undefined) {
    const values = lines(ticketHeader);
    if (values.length === 1 && isSafeHeaderValue(values[0]!, MAX_TICKET_BYTES) && /^[A-Za-z0-9_-]\S*$/.test(values[0]!)) session.crmTicket = values[0];
    else if (values.length > 0) log.warn({ header: ticketHeader, reason: values.length > 1 ? `given ${values.length} times` : `${describeValue(values[0]!)} is empty, has spaces, starts with neither a letter, a digit, "_" nor "-", is over ${MAX_TICKET_BYTES} bytes or not printable ASCII` }, 'CRM ticket header refused');
  }
}

/** The longest CRM ticket id taken from a header. */
const MAX_TICKET_BYTES = 128;

function logIgnored(session: CallSession, lines: Lines, config: SwitchboardConfig): void {
  const sent = mappedHeaderNames(config).filter((n) => lines(n).length > 0);
  if (sent.length > 0) session.log.warn({ headers: sent, reason: 'the source is not a trusted trunk' }, 'reserved data headers ignored: no flag set');
  const ticketHeader = config.crm.ticket.header;
  if (ticketHeader !== undefined && lines(ticketHeader).length > 0) session.log.warn({ header: ticketHeader, reason: 'the source is not a trusted trunk' }, 'CRM ticket header ignored');
  const att = attestationOf(lines('P-Asserted-Identity'), lines('From'));
  if (att.value !== undefined || att.problem !== undefined) session.log.info({ header: att.header, reason: 'the source is not a trusted trunk' }, 'caller attestation ignored');
}

/** Takes what the INVITE (`lines`: its header lines by name) says about the caller into `session`. */
export function takeCallerData(session: CallSession, trunk: InboundTrunk | undefined, lines: Lines, config: SwitchboardConfig): void {
  if (trunk?.trusted === true) takeTrusted(session, trunk, lines, config);
  else logIgnored(session, lines, config);
}
