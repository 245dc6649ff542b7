/**
 * The API's request and response schemas (TypeBox): Fastify validates
 * requests and serialises responses with them, and the OpenAPI document is
 * generated from them, so the contract, the checks and the docs are one text.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PERMISSIONS } from '../config/schema/api.js';
import type { RESERVED_PROPERTIES } from '../config/schema/reserved-data.js';
import { AUDIT_ACTIONS } from './audit/audit-log.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Enum = <const T extends readonly string[]>(values: T, description: string) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
const DateTime = (description: string) => Type.String({ format: 'date-time', description });
/**
 * Free text people write (reasons): no control characters (C0, DEL, C1), which would
 * reach terminals and logs that show the audit log and the call records; no line or
 * paragraph separators (U+2028, U+2029), no bidirectional controls (U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069: they reorder what an auditor reads, "Trojan Source"),
 * no invisible format characters (U+200B-U+200D, U+2060-U+2064, U+FEFF), and no lone
 * surrogates (not text: no UTF-8 encodes them).
 */
export const PLAIN_TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff\\ud800-\\udfff]*$';
const PlainText = (o: { minLength: number; maxLength: number; description: string }) => Type.String({ ...o, pattern: PLAIN_TEXT_PATTERN });

export const CALL_STATES = ['routing', 'in-queue', 'whisper', 'connected', 'message', 'voicemail', 'forwarding', 'ended'] as const;
export const AGENT_STATUSES = ['idle', 'ringing', 'whisper', 'on-call', 'wrap-up', 'not-ready', 'logged-out'] as const;
export const AGENT_STATES = ['logged-out', 'ready', 'not-ready', 'ringing', 'whisper', 'on-call', 'wrap-up'] as const;

export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ description: 'The HTTP status, repeated.' }),
    code: Type.String({ description: 'A stable code (SB_...) to branch on.' }),
    reason: Type.String({ description: 'What was wrong, in words.' }),
  },
  { title: 'Error', description: 'Every error answer.' },
);

export const MetricsSchema = Type.Object(
  {
    waitMs: Type.Number({ description: 'Arrival to bridge (to now while waiting), whisper included.' }),
    whisperMs: Type.Number({ description: 'Of the wait, the whisper and countdown played to the agent.' }),
    queueMs: Type.Number({ description: 'Time in queue (hunting for an agent).' }),
    talkMs: Type.Number({ description: 'Bridge to now (or end).' }),
    holdMs: Type.Number({ description: 'Of the talk time, on hold.' }),
  },
  { title: 'CallMetrics' },
);

export const MonitorSchema = Type.Object(
  {
    id: Type.String(),
    user: Type.String({ description: 'Who is listening.' }),
    device: Type.String({ description: 'The SIP URI called (for a registered phone, the contact it registered).' }),
    state: Enum(['ringing', 'listening'] as const, 'ringing: the device is being called; listening: it hears the call.'),
    startedAt: DateTime('When it was asked for.'),
    listeningSince: Nullable(DateTime('When the device answered.')),
  },
  { title: 'Monitor' },
);

export const StoppedMonitorSchema = Type.Object(
  {
    id: Type.String(),
    user: Type.String({ description: 'Who was listening.' }),
    device: Type.String({ description: 'The SIP URI called.' }),
    state: Enum(['stopped'] as const, 'The monitor is stopped: its device got its BYE (or CANCEL while it rang).'),
    startedAt: DateTime('When it was asked for.'),
    listeningSince: Nullable(DateTime('When the device answered (null: it never did).')),
    stoppedAt: DateTime('When it was stopped.'),
  },
  { title: 'StoppedMonitor' },
);

/** The reserved properties that are set (an unset one is absent). */
export const ReservedValuesSchema = Type.Object(
  {
    reserved_verified_customer: Type.Optional(Type.Boolean()),
    reserved_bad_actor: Type.Optional(Type.Boolean()),
    reserved_repeat_customer: Type.Optional(Type.Boolean()),
  } satisfies Record<(typeof RESERVED_PROPERTIES)[number], unknown>,
  { additionalProperties: false, title: 'ReservedData', description: "The caller's reserved properties that are set: reserved_verified_customer, reserved_bad_actor, reserved_repeat_customer (the agent's profile flags)." },
);
const ReservedSetBySchema = Type.Record(Type.String(), Type.String(), { description: 'Who set each property: header:<name> (a trusted trunk) or api:<user>.' });
const AttestationSchema = Nullable(Enum(['passed', 'failed', 'no-validation'] as const, "The caller's STIR/SHAKEN verification (verstat) passed on by a trusted trunk."));
const TrunkSchema = Type.Object(
  { id: Nullable(Type.String()), name: Nullable(Type.String()), trusted: Type.Boolean() },
  { description: 'The inbound trunk the call came in on (id null: an unknown, untrusted source).' },
);

export const ReservedDataSchema = Type.Object(
  { call: Type.String(), reservedData: ReservedValuesSchema, setBy: ReservedSetBySchema, callerAttestation: AttestationSchema, trunk: TrunkSchema },
  { title: 'CallReservedData', description: "A live call's reserved data." },
);

// One schema with two types, not a union: Ajv's type coercion (on for query strings) would turn null into false in a union's boolean branch.
const NullableFlag = (p: string) => Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], description: `${p}: true or false, or null to unset it.` });
export const ReservedDataBody = Type.Object(
  {
    reserved_verified_customer: NullableFlag('The caller is a verified customer'),
    reserved_bad_actor: NullableFlag('The caller is a potential bad actor'),
    reserved_repeat_customer: NullableFlag('The caller contacted the center before'),
  },
  { additionalProperties: false, description: 'All three properties (PUT replaces them): each true, false or null (unset).' },
);

const callFields = {
  id: Type.String({ description: "The engine's call id." }),
  sipCallId: Type.String({ description: "The caller's SIP Call-ID." }),
  state: Enum(CALL_STATES, 'routing, in-queue (hunting agents), whisper (an agent hears the whisper), connected, message, voicemail, forwarding.'),
  caller: Type.Object({ number: Nullable(Type.String()), name: Nullable(Type.String()), withheld: Type.Boolean() }),
  dialed: Type.String(),
  queue: Nullable(Type.String({ description: 'The queue the call is in now.' })),
  queueName: Nullable(Type.String()),
  team: Nullable(Type.String({ description: "The queue's team." })),
  queuePath: Type.Array(Type.String(), { description: 'Every queue the call went through, in order (the queue menu path).' }),
  agent: Nullable(Type.String({ description: 'The agent (or gateway) on the other side, or ringing.' })),
  arrivedAt: DateTime('When the INVITE arrived.'),
  bridgedAt: Nullable(DateTime('When caller and agent were bridged.')),
  ageMs: Type.Number({ description: 'Since arrival.' }),
  stuck: Type.Boolean({ description: 'Older than api.stuckCalls.thresholdSeconds.' }),
  metrics: MetricsSchema,
  recording: Nullable(Type.Object({ id: Type.String(), state: Type.String({ description: 'idle, recording, paused, finished.' }) })),
  deflection: Nullable(Type.Object({ action: Type.String(), target: Nullable(Type.String()) })),
  monitors: Type.Array(MonitorSchema, { description: 'Who is monitoring.' }),
  waiting: Nullable(
    Type.Object(
      {
        position: Type.Integer({ description: '1 = the next call to be offered an agent.' }),
        priority: Type.Integer({ description: 'Call priority (higher first).' }),
        since: DateTime('When it joined the queue.'),
        offering: Type.Boolean({ description: 'An agent is ringing for it.' }),
      },
      { description: 'Its place in a waiting queue (Calls > In Queue); null when not waiting.' },
    ),
  ),
};

export const CallSummarySchema = Type.Object(callFields, { title: 'CallSummary', description: 'A live call, as the lists show it.' });
export type CallSummary = Static<typeof CallSummarySchema>;

export const CallDetailsSchema = Type.Object(
  {
    ...callFields,
    language: Type.String(),
    source: Type.Object({ address: Type.String(), port: Type.Integer(), transport: Type.String() }),
    participants: Type.Array(
      Type.Object({
        role: Enum(['caller', 'agent', 'supervisor'] as const, 'Who.'),
        id: Type.String({ description: 'Number, SIP URI or user name.' }),
        state: Type.String({ description: 'What they are doing now.' }),
        since: Nullable(DateTime('Since when.')),
      }),
    ),
    attempts: Type.Array(
      Type.Object({ agent: Type.String(), queue: Type.String(), outcome: Type.String(), status: Nullable(Type.Integer()), startedAt: DateTime('Ringing from.'), endedAt: Nullable(DateTime('Until.')) }),
      { description: 'Every agent tried, with what happened.' },
    ),
    transfers: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), kind: Type.String({ description: 'deflection: the hours policy moved the call to another queue.' }) })),
    decisions: Type.Array(
      Type.Object({
        queue: Type.String(),
        open: Type.Boolean(),
        action: Type.String(),
        reason: Type.String(),
        deflection: Nullable(Type.String()),
        schedule: Nullable(Type.String()),
        timeZone: Nullable(Type.String()),
        exception: Nullable(Type.String()),
        at: Type.String(),
      }),
      { description: 'What the hours policy decided, per queue of the path.' },
    ),
    reservedData: ReservedValuesSchema,
    reservedDataSetBy: ReservedSetBySchema,
    callerAttestation: AttestationSchema,
    crmTicket: Nullable(
      Type.Object(
        { id: Type.String(), link: Nullable(Type.String({ description: "The ticket's page in the CRM (crm.ticket.link)." })) },
        { description: 'The CRM ticket the call belongs to, named by a trusted trunk (crm.ticket.header).' },
      ),
    ),
    trunk: TrunkSchema,
    facts: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    times: Type.Object({ answered: Nullable(DateTime('The caller got our 200.')), agentAnswered: Nullable(DateTime('The first agent answered.')) }),
  },
  { title: 'CallDetails', description: "One live call's details." },
);
export type CallDetailsView = Static<typeof CallDetailsSchema>;

export const AgentSchema = Type.Object(
  {
    id: Type.String({ description: "The agent's id (agents[].id); for a queue's static target, its URI." }),
    kind: Enum(['agent', 'target'] as const, 'agent: a configured agent with a state; target: a static URI of a queue without agents (no state of its own).'),
    name: Nullable(Type.String()),
    uri: Nullable(Type.String({ description: "The SIP URI it is rung at: a static device, or a registered agent's newest contact (null while none)." })),
    teams: Type.Array(Type.String()),
    queues: Type.Array(Type.String()),
    status: Enum(AGENT_STATUSES, 'idle (ready, or a target with no call), ringing, whisper, on-call, wrap-up, not-ready, logged-out.'),
    call: Nullable(Type.String({ description: 'The call it is ringing for, whispered to, on, or wrapping up.' })),
    state: Nullable(Enum(AGENT_STATES, "An agent's state (null for a target).")),
    reason: Nullable(Type.String({ description: 'Why not ready: missed (did not answer an offered call), unreachable (no registered device), or the reason given.' })),
    since: Nullable(DateTime('In this state since.')),
    callsTaken: Nullable(Type.Integer({ description: 'Calls answered since the engine started.' })),
    callsMissed: Nullable(Type.Integer({ description: 'Calls offered and not taken since the engine started.' })),
    lastCallEndedAt: Nullable(DateTime('When its last call ended.')),
    idleSince: Nullable(DateTime('Ready since (longest idle is offered first).')),
    reachable: Type.Boolean({ description: 'A static device, or a registered one with a live contact.' }),
    devices: Type.Array(
      Type.Object({ contact: Type.String(), expiresAt: DateTime('When the registration expires.'), source: Type.String({ description: 'transport:address:port it registered from.' }), userAgent: Nullable(Type.String()) }),
      { description: 'Registered contacts (newest first).' },
    ),
    pending: Nullable(Type.Object({ state: Enum(['ready', 'not-ready', 'logged-out'] as const, 'Asked for.'), reason: Nullable(Type.String()) }, { description: 'A state asked for during a call, applied when the call and its wrap-up end.' })),
  },
  { title: 'Agent' },
);
export type AgentView = Static<typeof AgentSchema>;

export const AgentIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$' }) });

export const AgentStateBody = Type.Object(
  {
    state: Enum(['ready', 'not-ready', 'logged-out'] as const, 'ready (logs in), not-ready (with a reason), logged-out.'),
    reason: Type.Optional(PlainText({ minLength: 1, maxLength: 64, description: 'Why not ready (default "not-ready").' })),
  },
  { additionalProperties: false },
);

export const QueueStatsSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    team: Nullable(Type.String()),
    waiting: Type.Integer({ description: 'Calls waiting (being offered to an agent included).' }),
    offering: Type.Integer({ description: 'Of which an agent is ringing for.' }),
    longestWaitMs: Type.Number({ description: 'How long the oldest waiting call has waited.' }),
    agents: Type.Object({ loggedIn: Type.Integer(), ready: Type.Integer(), busy: Type.Integer({ description: 'Ringing, whisper or on a call.' }), notReady: Type.Integer(), wrapUp: Type.Integer() }),
    answered: Type.Integer({ description: 'Calls that reached an agent since the engine started.' }),
    overflowed: Type.Integer({ description: 'Calls that waited the maximum and overflowed.' }),
    abandoned: Type.Integer({ description: 'Callers who hung up while waiting.' }),
    averageHandleMs: Nullable(Type.Number({ description: 'Recent talk plus wrap-up time (the estimated wait is made of it).' })),
  },
  { title: 'QueueStats', description: 'A waiting queue now.' },
);

export const AuditEntrySchema = Type.Object(
  {
    at: DateTime('When.'),
    action: Enum(AUDIT_ACTIONS, 'What.'),
    outcome: Enum(['ok', 'failed', 'denied'] as const, 'ok, failed (allowed but did not work), denied.'),
    user: Nullable(Type.String()),
    role: Nullable(Type.String()),
    keyId: Nullable(Type.String()),
    from: Nullable(Type.Object({ address: Type.String(), userAgent: Nullable(Type.String()) })),
    request: Nullable(Type.Object({ method: Type.String(), path: Type.String() })),
    call: Nullable(Type.String()),
    monitor: Nullable(Type.String()),
    device: Nullable(Type.String()),
    agent: Nullable(Type.String({ description: 'The agent whose state was changed.' })),
    reason: Nullable(Type.String()),
    status: Nullable(Type.Integer()),
    code: Nullable(Type.String()),
  },
  { title: 'AuditEntry' },
);

export const MeSchema = Type.Object({
  user: Type.String(),
  role: Type.String(),
  keyId: Type.String(),
  permissions: Type.Array(Enum(PERMISSIONS, 'A permission.')),
  scope: Enum(['all', 'teams'] as const, 'all calls, or only those of the teams'),
  teams: Type.Array(Type.String()),
  device: Nullable(Type.String()),
});

export const CallIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }) });
export const MonitorParams = Type.Object({ id: CallIdParams.properties.id, monitorId: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9]+$' }) });

export const CallListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Search caller number or name, dialed number, agent, queue id or name (case-insensitive substring).' })),
    state: Type.Optional(Type.Array(Enum(CALL_STATES, 'A call state.'), { description: 'Only calls in these states (repeat the parameter): connected, in-queue, ...' })),
    queue: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { description: 'Only calls now in these queues.' })),
    team: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { description: 'Only calls of these teams.' })),
    // Bounded so that 1e400 (Infinity once parsed) is refused like any other number out of range; no call lives a week.
    minAgeSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 604_800, description: 'Only calls at least this old (at most a week).' })),
    maxAgeSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 604_800, description: 'Only calls at most this old (at most a week).' })),
    stuck: Type.Optional(Type.Boolean({ description: 'Only stuck calls (true) or only others (false).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'At most this many, oldest first.' })),
  },
  { additionalProperties: false },
);
export type CallListQueryValue = Static<typeof CallListQuery>;

export const AgentListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Search the agent id, name or URI (case-insensitive substring).' })),
    status: Type.Optional(Type.Array(Enum(AGENT_STATUSES, 'An agent status.'))),
    state: Type.Optional(Type.Array(Enum(AGENT_STATES, 'An agent state.'), { description: 'Only agents in these states.' })),
    team: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
    queue: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: false },
);
export type AgentListQueryValue = Static<typeof AgentListQuery>;

/** The query of a route without query parameters: any is refused (400), as unknown ones are elsewhere. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** A request without a body (or with an empty JSON object). */
export const EmptyBody = Type.Object({}, { additionalProperties: false });

export const MonitorTicketSchema = Type.Object(
  {
    call: Type.String(),
    uri: Type.String({ description: 'The SIP URI to INVITE (once, before expiresAt): sip:monitor-<256-bit token>@host;transport=ws.' }),
    webSocket: Type.String({ description: 'The SIP WebSocket server (RFC 7118) to send the INVITE through, e.g. wss://sip.example.com:443.' }),
    expiresAt: DateTime('The ticket is refused (404) after this.'),
  },
  { title: 'MonitorTicket' },
);

export const MonitorRequestBody = Type.Object(
  {
    device: Type.Optional(
      Type.String({
        maxLength: 256,
        pattern: '^sips?:[^\\s<>"]+$',
        description: "The supervisor's SIP device: a SIP URI such as sip:alice@192.0.2.7:5060, or the address of record sip:<id>@<domain> of a phone that registers here (an agents entry; a supervisor's desk phone is one serving no queue), called where it registered (409 while it is not). Default: the device stored with the user's key.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const EndCallBody = Type.Object(
  {
    confirm: Type.Literal(true, { description: 'Must be true: the API form of the confirmation step.' }),
    reason: PlainText({ minLength: 1, maxLength: 200, description: 'Why (goes into the call record and the audit log).' }),
  },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    user: Type.Optional(Type.String({ maxLength: 64 })),
    action: Type.Optional(Enum(AUDIT_ACTIONS, 'Only this action.')),
    call: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const errorResponses = (...codes: number[]): Record<number, typeof ErrorSchema> => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
