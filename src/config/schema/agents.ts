import { Type } from '@sinclair/typebox';
import { E164, Host, Id, PromptSpec, StringEnum } from './common.js';
import { IVR_OPTIONS } from './policy.js';

/*
 * Agents, their devices' registrar and the waiting queue (owned by
 * src/engine/agents/, src/engine/registrar/ and src/engine/queues/; README
 * "Agents and the waiting queue"). Top-level keys are spread into the root
 * schema; queue fields are flattened into each queue.
 */

const FeatureCode = (description: string, def: string) =>
  Type.String({ pattern: '^[*#0-9]{1,8}$', errorHint: 'keys such as *1 (digits, * and #, up to 8)', default: def, description });

/** A map keyed by language tag (checked by the agents' config check). */
const LocalizedPrompt = (description: string) =>
  Type.Record(Type.String(), PromptSpec, { description: `${description} Keyed by language tag; must include deflection.defaultLanguage.` });

const AgentQueue = Type.Object(
  {
    queue: Id('A queue the agent serves (queues[].id).'),
    level: Type.Integer({
      minimum: 1,
      maximum: 99,
      default: 1,
      description: "Priority or skill level for this queue: a call goes to agents of the lowest level first (1 = the agent's first choice), the longest idle among them.",
    }),
  },
  { additionalProperties: false },
);

export const AgentSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
      errorHint: 'a letter or digit, then up to 63 letters, digits, ".", "_" or "-"',
      description: 'Unique agent id; also the SIP user name its device registers and authenticates with (sip:<id>@<domain>), and the API user it may change its own state as.',
    }),
    name: Type.String({ minLength: 1, description: 'Display name.' }),
    team: Type.Optional(Id("The agent's team (managers see the agents of their teams).")),
    queues: Type.Array(AgentQueue, { default: [], description: 'Queues the agent serves, each with a level.' }),
    device: Type.String({
      pattern: '^(registered|sips?:[^\\s]+)$',
      errorHint: '"registered" or a SIP URI such as sip:1001@192.0.2.20:5060',
      default: 'registered',
      description: "'registered': the contacts the agent's phone registered (REGISTER sip:<id>@<domain>); or a static SIP URI.",
    }),
    password: Type.Optional(Type.String({ minLength: 1, description: 'Digest password of the device (a secret: never logged). Or passwordFile, or registrar.credentialsFile.' })),
    passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the digest password (first line).' })),
    startState: StringEnum(['logged-out', 'ready'] as const, {
      default: 'logged-out',
      description: 'The state the agent starts in when the engine starts (then changed by the API or feature codes).',
    }),
  },
  { additionalProperties: false, description: 'An agent: one person taking calls, one call at a time.' },
);

const RegistrarSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Answer REGISTER from agents\' devices (off: REGISTER gets 405 from the SIP server).' }),
    realm: Type.String({ minLength: 1, pattern: '^[^"\\\\\\r\\n]+$', errorHint: 'text without quotes or backslashes', default: 'switchboard', description: 'Digest realm (RFC 3261 §22.1).' }),
    domains: Type.Array(Host('A domain.'), {
      default: [],
      description: 'Domains whose addresses of record are registered here (the host of the To URI); empty: any. Others get 404.',
    }),
    algorithms: Type.Array(StringEnum(['SHA-256', 'MD5'] as const, { description: 'A digest algorithm.' }), {
      minItems: 1,
      uniqueItems: true,
      default: ['MD5'],
      description:
        'Digest algorithms challenged with, most preferred first (RFC 8760 §2.4): [SHA-256, MD5] for phones that follow RFC 8760. The default is MD5 alone because common phones fail on a challenge list naming SHA-256 (baresip 1.0, SIP.js 0.21) or answer only the first challenge with MD5 (SIPp 3.6).',
    }),
    nonceSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 300, description: 'A nonce older than this is stale: the phone is challenged again with stale=true (RFC 7616 §3.3).' }),
    minExpiresSeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 60, description: 'Shorter registrations get 423 Interval Too Brief with Min-Expires (RFC 3261 §10.3).' }),
    maxExpiresSeconds: Type.Integer({ minimum: 1, maximum: 604800, default: 3600, description: 'Longer registrations are shortened to this.' }),
    defaultExpiresSeconds: Type.Integer({ minimum: 1, maximum: 604800, default: 3600, description: 'Expiry of a contact that asks for none.' }),
    maxContacts: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'Contacts one agent may register; more get 403.' }),
    ring: StringEnum(['all', 'newest'] as const, {
      default: 'all',
      description: "An agent with several registered contacts: 'all' ring at once (the first to answer takes the call), 'newest' only the latest registered.",
    }),
    credentialsFile: Type.Optional(Type.String({ minLength: 1, description: 'A file of `id:password` lines (# comments), for agents without a password in this file; re-read at start.' })),
    keepAlive: Type.Object(
      {
        intervalSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 30, description: 'OPTIONS to every registered contact this often (0: never).' }),
        timeoutSeconds: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'An OPTIONS unanswered for this long failed.' }),
        failures: Type.Integer({ minimum: 1, maximum: 10, default: 2, description: 'Consecutive failures after which the contact is removed (its agent out of rotation).' }),
      },
      { additionalProperties: false, default: {}, description: 'Keep-alive towards registered devices.' },
    ),
    rateLimit: Type.Object(
      {
        perSourcePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 100000, default: 5, description: 'REGISTERs (and feature-code calls) per second one source address may send.' }),
        burst: Type.Integer({ minimum: 1, maximum: 100000, default: 20, description: 'How many it may send at once.' }),
        failureCost: Type.Integer({ minimum: 0, maximum: 1000, default: 5, description: 'A request that failed authentication costs this many more (slows password guessing).' }),
        maxSources: Type.Integer({ minimum: 100, maximum: 1000000, default: 10000, description: 'Sources remembered (least recently seen forgotten first).' }),
      },
      { additionalProperties: false, default: {}, description: 'Per-source limit: over it, 503 with Retry-After (RFC 3261 §21.5.4).' },
    ),
    store: StringEnum(['file', 'redis'] as const, {
      default: 'file',
      description: "Where registrations survive a restart: 'file' (registrar.file) or 'redis' (redis.url, keys under redis.keyPrefix).",
    }),
    file: Type.Optional(Type.String({ minLength: 1, description: 'Registrations file (store: file). Default: <stateDir>/registrar/bindings.json.' })),
    featureCodes: Type.Object(
      {
        ready: FeatureCode('Dialled from an agent\'s device: log in and be ready.', '*1'),
        notReady: FeatureCode('Dialled from an agent\'s device: not ready (with notReadyReason).', '*2'),
        logout: FeatureCode('Dialled from an agent\'s device: log out.', '*3'),
        notReadyReason: Type.String({ minLength: 1, maxLength: 64, default: 'break', description: 'The reason of a not-ready set by feature code.' }),
      },
      { additionalProperties: false, default: {}, description: 'Feature codes: a plain SIP phone works the queue by dialling them (authenticated with its digest credentials).' },
    ),
  },
  { additionalProperties: false, default: {}, description: "The registrar for agents' devices (RFC 3261 §10, digest per RFC 3261 §22 and RFC 7616)." },
);

const Overflow = Type.Object(
  {
    option: StringEnum(IVR_OPTIONS, { description: 'What a caller who waited the maximum gets: another queue, a phone number, voicemail, or a message then hang-up.' }),
    queue: Type.Optional(Id('Target queue when option is queue.')),
    phoneNumber: Type.Optional(E164('Number to send the caller to when option is phoneNumber (through the outbound trunk).')),
    message: Type.Optional(LocalizedPrompt('The message when option is message (default: deflection.messages.afterHours).')),
    voicemailGreeting: Type.Optional(LocalizedPrompt('Voicemail greeting when option is voicemail (default: deflection.messages.voicemailGreeting).')),
  },
  { additionalProperties: false, description: "The queue's overflow at the maximum wait (the after-hours actions). Absent: 480 No Agent Available." },
);

const Announcements = Type.Object(
  {
    everySeconds: Type.Integer({ minimum: 5, maximum: 3600, description: 'How often a waiting caller hears its position and estimated wait.' }),
    position: Type.Boolean({ default: true, description: 'Say the position in the queue.' }),
    estimatedWait: Type.Boolean({ default: true, description: 'Say the estimated wait (once there is history to estimate from).' }),
    positionText: Type.String({ minLength: 1, default: 'You are caller number {Position}.', description: 'What is said ({Position}).' }),
    waitText: Type.String({ minLength: 1, default: 'Your estimated wait time is about {Minutes} minutes.', description: 'What is said ({Minutes}; "{Minutes} minutes" is said "1 minute" for one).' }),
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$', errorHint: 'a language tag such as en', description: 'TTS language. Default: media.prompts.language.' })),
  },
  { additionalProperties: false, description: 'Periodic announcements to waiting callers.' },
);

export const WaitingSchema = Type.Object(
  {
    maxWaitSeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 300, description: 'Longest a caller waits for an agent; then the overflow applies.' }),
    overflow: Type.Optional(Overflow),
    holdAudio: Type.Union([StringEnum(['ringback', 'silence'] as const, { description: 'ringback (media.whisper.ringbackTone) or silence.' }), PromptSpec], {
      default: 'ringback',
      description: 'What a waiting caller hears, looped: ringback, silence, or a prompt (TTS text or an uploaded file).',
    }),
    announcements: Type.Optional(Announcements),
    wrapUpSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 10, description: 'After a call of this queue, the agent is in wrap-up this long before being ready again.' }),
    priority: Type.Integer({ minimum: -100, maximum: 100, default: 0, description: 'Call priority of this queue\'s calls: for agents serving several queues, higher goes first; equal ones first come, first served.' }),
    sipPriority: Type.Boolean({ default: false, description: 'Also honour the caller\'s SIP Priority header (RFC 3261 §20.26: non-urgent -1, urgent +1, emergency +2).' }),
  },
  { additionalProperties: false, description: 'The waiting queue (a queue served by agents).' },
);

/** The queue fields of the waiting queue. */
export const QueueWaitingFields = Type.Object({
  waiting: Type.Optional(WaitingSchema),
});

export const AgentsTopLevel = {
  agents: Type.Array(AgentSchema, { default: [], description: 'Agents (people taking calls from the queues they serve).' }),
  registrar: RegistrarSchema,
};
