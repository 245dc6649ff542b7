/**
 * What leaves with a call about its caller, and nothing more: the agent
 * leg's headers (the flags that are true, each property's value, the
 * attestation, and the incoming headers configured to pass), and the data
 * parameters of a call sent on (the seed's redirection.sip: `{field, type,
 * source, source_field}` into headers of the outbound INVITE). Flag values
 * are written by us from booleans; anything copied from the caller's INVITE
 * was checked at admission (caller-data.ts) and is checked again here, so no
 * value can carry a line end into a request.
 */
import type { SwitchboardConfig } from '../../config/load.js';
import type { ReservedProperty, SessionMetadataField } from '../../config/schema/reserved-data.js';
import type { CallSession } from '../session/call-session.js';
import { isSafeHeaderValue } from './header-text.js';
import { shortName } from './reserved-headers.js';
import { MAX_PASSED_VALUE_BYTES } from './caller-data.js';

type AgentLegSettings = SwitchboardConfig['reservedData']['agentLeg'];
type RedirectionSettings = SwitchboardConfig['redirection']['sip'];

/** The agent leg's reserved-data headers (`X-Reserved-Flags: verified_customer,repeat_customer`, ...). */
export function reservedAgentHeaders(session: CallSession, leg: AgentLegSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of leg.passHeaders) {
    const v = session.inboundFields.get(name.toLowerCase());
    if (v !== undefined && isSafeHeaderValue(v, MAX_PASSED_VALUE_BYTES)) out[name] = v;
  }
  const flags = session.reserved.trueOnes();
  if (leg.flagsHeader !== undefined && flags.length > 0) out[leg.flagsHeader] = flags.map(shortName).join(',');
  for (const [p, header] of Object.entries(leg.valueHeaders ?? {})) {
    const v = session.reserved.get(p as ReservedProperty);
    if (v !== undefined) out[header] = String(v);
  }
  if (leg.attestationHeader !== undefined && session.callerAttestation !== undefined) out[leg.attestationHeader] = session.callerAttestation;
  return out;
}

/** The call's metadata, as data parameters of source session_metadata read it (undefined: not known). */
export function sessionMetadata(session: CallSession, queueName: (id: string) => string | undefined): Record<SessionMetadataField, string | undefined> {
  const flag = (v: boolean | undefined): string | undefined => (v === undefined ? undefined : String(v));
  const r = session.reserved;
  return {
    reserved_verified_customer: flag(r.get('reserved_verified_customer')),
    reserved_bad_actor: flag(r.get('reserved_bad_actor')),
    reserved_repeat_customer: flag(r.get('reserved_repeat_customer')),
    caller_number: session.caller.withheld ? undefined : session.caller.number,
    caller_name: session.caller.withheld ? undefined : session.caller.name,
    dialed_number: session.dialed,
    queue: session.queue,
    queue_name: session.queue === undefined ? undefined : queueName(session.queue),
    language: session.language,
    trunk: session.trunk.id ?? undefined,
    caller_attestation: session.callerAttestation,
    call_id: session.id,
    sip_call_id: session.callId,
  };
}

export interface DataParameters {
  /** Header → value, for the outbound INVITE. */
  readonly headers: Record<string, string>;
  /** Fields with no value (unknown, or refused as unsafe): not sent. */
  readonly skipped: readonly { readonly field: string; readonly reason: string }[];
}

/** The data parameters of a call sent on now; empty when data_parameters_enabled is false. */
export function dataParameters(session: CallSession, settings: RedirectionSettings, queueName: (id: string) => string | undefined): DataParameters {
  const headers: Record<string, string> = {};
  const skipped: { field: string; reason: string }[] = [];
  if (!settings.data_parameters_enabled) return { headers, skipped };
  const metadata = sessionMetadata(session, queueName);
  for (const d of settings.data_parameters) {
    let value: string | undefined;
    if (d.type === 'static') value = d.value;
    else if (d.source === 'session_metadata') value = metadata[d.source_field as SessionMetadataField];
    else value = session.inboundFields.get(d.source_field!.toLowerCase());
    if (value === undefined) skipped.push({ field: d.field, reason: `no ${d.source ?? 'value'} ${d.source_field ?? ''}`.trim() });
    // A caller's display name is the caller's text: it goes out only if it is safe header text.
    else if (!isSafeHeaderValue(value, MAX_PASSED_VALUE_BYTES)) skipped.push({ field: d.field, reason: 'the value is not printable ASCII (or too long)' });
    else headers[d.field] = value;
  }
  return { headers, skipped };
}

/** Keeps what was sent where data_records asks (the call record, the CRM metadata of its recording). */
export function keepDataParameters(session: CallSession, settings: RedirectionSettings, sent: Readonly<Record<string, string>>): void {
  if (!settings.data_parameters_enabled) return;
  const { in_metadata, in_crm_record } = settings.data_records;
  if (!in_metadata && !in_crm_record) return;
  session.dataParameters = { inMetadata: in_metadata ? { ...sent } : undefined, inCrmRecord: in_crm_record ? { ...sent } : undefined };
}
