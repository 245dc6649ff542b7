/**
 * The API's request and response schemas (TypeBox): Fastify validates
 * requests and serialises responses with them, and the OpenAPI document is
 * generated from them, so the contract, the checks and the docs are one text.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PERMISSIONS } from '../config/schema/api.js';
import { AUDIT_ACTIONS } from './audit/audit-log.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Enum = <const T extends readonly string[]>(values: T, description: string) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
const DateTime = (description: string) => Type.String({ format: 'date-time', description });

export const CALL_STATES = ['routing', 'in-queue', 'whisper', 'connected', 'message', 'voicemail', 'forwarding', 'ended'] as const;
export const AGENT_STATUSES = ['idle', 'ringing', 'whisper', 'on-call'] as const;

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
    device: Type.String({ description: 'The SIP URI called.' }),
    state: Enum(['ringing', 'listening'] as const, 'ringing: the device is being called; listening: it hears the call.'),
    startedAt: DateTime('When it was asked for.'),
    listeningSince: Nullable(DateTime('When the device answered.')),
  },
  { title: 'Monitor' },
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
    reservedData: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'reserved_* flags of the caller (verified customer, bad actor, repeat customer), when set.' }),
    facts: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    times: Type.Object({ answered: Nullable(DateTime('The caller got our 200.')), agentAnswered: Nullable(DateTime('The first agent answered.')) }),
  },
  { title: 'CallDetails', description: "One live call's details." },
);
export type CallDetailsView = Static<typeof CallDetailsSchema>;

export const AgentSchema = Type.Object(
  {
    uri: Type.String({ description: "The agent's SIP URI." }),
    teams: Type.Array(Type.String()),
    queues: Type.Array(Type.String()),
    status: Enum(AGENT_STATUSES, 'idle, ringing, whisper, on-call.'),
    call: Nullable(Type.String({ description: 'The call it is ringing for, whispered to or on.' })),
  },
  { title: 'Agent' },
);
export type AgentView = Static<typeof AgentSchema>;

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
    minAgeSeconds: Type.Optional(Type.Number({ minimum: 0, description: 'Only calls at least this old.' })),
    maxAgeSeconds: Type.Optional(Type.Number({ minimum: 0, description: 'Only calls at most this old.' })),
    stuck: Type.Optional(Type.Boolean({ description: 'Only stuck calls (true) or only others (false).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'At most this many, oldest first.' })),
  },
  { additionalProperties: false },
);
export type CallListQueryValue = Static<typeof CallListQuery>;

export const AgentListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Search the agent URI (case-insensitive substring).' })),
    status: Type.Optional(Type.Array(Enum(AGENT_STATUSES, 'An agent status.'))),
    team: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
    queue: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: false },
);
export type AgentListQueryValue = Static<typeof AgentListQuery>;

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
        description: "The supervisor's SIP device (a SIP URI such as sip:alice@192.0.2.7:5060). Default: the device stored with the user's key.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const EndCallBody = Type.Object(
  {
    confirm: Type.Literal(true, { description: 'Must be true: the API form of the confirmation step.' }),
    reason: Type.String({ minLength: 1, maxLength: 200, description: 'Why (goes into the call record and the audit log).' }),
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
