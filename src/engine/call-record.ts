/**
 * The record of one call, written once when it ends: a JSON line under the
 * state directory (`<stateDir>/calls/records.jsonl`), a log line, and the CRM
 * metadata of the call's recording. Plain data only.
 */
import { JsonLinesFile } from '../observability/json-lines-file.js';
import type { Logger } from '../observability/logger.js';
import { contactFor } from '../recordings/crm/contact.js';
import type { ReservedValues } from './reserved/reserved-data.js';
import type { CallerAttestation } from './reserved/verstat.js';
import type { AgentAttempt, CallSession, DecisionSummary, EndedBy } from './session/call-session.js';
import type { CallMetrics } from './session/call-timeline.js';
import type { TrunkRef } from './trunks/inbound-trunks.js';

export interface CallRecord {
  readonly version: 1;
  /** The engine's call id (also rtpengine's call id, the recordings' callId and every log line's `call`). */
  readonly call: string;
  /** The caller's SIP Call-ID. */
  readonly sipCallId: string;
  readonly caller: { readonly number: string | null; readonly name: string | null; readonly withheld: boolean; readonly contact: string };
  readonly dialed: string;
  readonly source: { readonly address: string; readonly port: number; readonly transport: string };
  /** The inbound trunk (id and name null for an unknown, untrusted source). */
  readonly trunk: TrunkRef;
  /** The reserved properties that were set when the call ended (verified customer, bad actor, repeat customer). */
  readonly reservedData: ReservedValues;
  /** Who set each: `header:<name>` (a trusted trunk) or `api:<user>`. */
  readonly reservedDataSetBy: Readonly<Record<string, string>>;
  /** The caller's STIR/SHAKEN verification result (verstat) from a trusted trunk. */
  readonly callerAttestation: CallerAttestation | null;
  /** The CRM ticket the call belongs to (`crm.ticket.header`, trusted trunks only). */
  readonly crmTicket: string | null;
  /** Data parameters sent on with the call (when redirection.sip.data_records.in_metadata). */
  readonly dataParameters: Readonly<Record<string, string>> | null;
  readonly language: string;
  readonly queuePath: readonly string[];
  readonly decisions: readonly DecisionSummary[];
  readonly deflection: { readonly action: string; readonly target: string | null } | null;
  readonly agentsTried: readonly {
    readonly agent: string;
    readonly queue: string;
    readonly outcome: string;
    readonly status: number | null;
    readonly startedAt: string;
    /** A waiting queue's offer: when the agent was taken for the call, and since when it had been ready (longest idle first). */
    readonly offeredAt: string | null;
    readonly idleSince: string | null;
  }[];
  readonly agent: string | null;
  readonly times: { readonly arrived: string; readonly answered: string | null; readonly agentAnswered: string | null; readonly bridged: string | null; readonly ended: string | null };
  readonly metrics: CallMetrics;
  readonly endReason: string | null;
  readonly endedBy: EndedBy | null;
  readonly recordings: readonly string[];
  readonly facts: Readonly<Record<string, string | number | boolean>>;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

function attemptView(a: AgentAttempt): CallRecord['agentsTried'][number] {
  return {
    agent: a.agent,
    queue: a.queue,
    outcome: a.outcome ?? 'ringing',
    status: a.status ?? null,
    startedAt: new Date(a.startedAt).toISOString(),
    offeredAt: iso(a.offer?.at),
    idleSince: iso(a.offer?.idleSince ?? undefined),
  };
}

/**
 * The record as it stands (final once the session has ended). `contact` is the CRM's naming of an
 * anonymous caller (`crm.channelName`, `crm.timeZone`): the same rule as the recording's contact
 * (recordings/crm/contact.ts), so one upload never names the caller twice in two zones.
 */
export function callRecordOf(s: CallSession, contact: { readonly channel: string; readonly timeZone: string }): CallRecord {
  const m = s.timeline.marks;
  const party = { ...(s.caller.number !== undefined ? { number: s.caller.number } : {}), ...(s.caller.name !== undefined ? { name: s.caller.name } : {}), anonymous: s.caller.withheld };
  const answered = s.attempts.find((a) => a.outcome === 'answered' && m.bridgedAt !== undefined);
  return {
    version: 1,
    call: s.id,
    sipCallId: s.callId,
    caller: {
      number: s.caller.number ?? null,
      name: s.caller.name ?? null,
      withheld: s.caller.withheld,
      contact: contactFor(party, new Date(m.arrivedAt), contact).name,
    },
    dialed: s.dialed,
    source: { ...s.source },
    trunk: { ...s.trunk },
    reservedData: s.reserved.values(),
    reservedDataSetBy: s.reserved.setBy(),
    callerAttestation: s.callerAttestation ?? null,
    crmTicket: s.crmTicket ?? null,
    dataParameters: s.dataParameters?.inMetadata ?? null,
    language: s.language,
    queuePath: [...s.queuePath],
    decisions: s.decisions.map((d) => ({ ...d })),
    deflection: s.deflection ?? null,
    agentsTried: s.attempts.map(attemptView),
    agent: answered?.agent ?? null,
    times: { arrived: iso(m.arrivedAt)!, answered: iso(m.answeredAt), agentAnswered: iso(m.agentAnsweredAt), bridged: iso(m.bridgedAt), ended: iso(m.endedAt) },
    metrics: s.metrics(),
    endReason: s.endReason ?? null,
    endedBy: s.endedBy ?? null,
    recordings: [...s.recordingIds],
    facts: { ...s.facts },
  };
}

/**
 * Appends records to a JSON-lines file, in order (`JsonLinesFile`: a record a fault kept from the
 * file is written once it can be; `reopen` after a rotation). Every record is also logged.
 */
export class CallRecordWriter {
  private readonly out: JsonLinesFile | undefined;
  /** Records made (each logged; written to the file, or waiting to be: `waiting`). */
  made = 0;

  constructor(file: string | undefined, private readonly logger: Logger) {
    this.out = file !== undefined ? new JsonLinesFile(file, logger, { what: 'call records' }) : undefined;
  }

  /** Records in the file (or made, when there is no file). */
  get written(): number {
    return this.out?.written ?? this.made;
  }

  /** Records kept through a fault, not yet in the file. */
  get waiting(): number {
    return this.out?.waiting ?? 0;
  }

  write(record: CallRecord): void {
    this.made++;
    this.logger.info({ record }, 'call record');
    this.out?.append(JSON.stringify(record));
  }

  /** The file was rotated (SIGHUP): the next record starts a new one at the path. */
  reopen(): void {
    this.out?.reopen();
  }

  close(): void {
    this.out?.close();
  }
}
