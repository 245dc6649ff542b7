import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { E164, Id, PromptSpec, StringEnum } from './common.js';

/**
 * Hours of operation, exceptions, emergency overrides, after-hours deflection
 * and transfer settings (owned by src/policy/; docs/policy.md explains the
 * evaluation order). Top-level keys are spread into the root schema.
 */

/** The channels a contact can arrive on. `mobile` and `web` are SDK calls; `chat` is SDK chat. */
export const CHANNELS = ['ivr', 'mobile', 'web', 'sms', 'chat'] as const;
export type Channel = (typeof CHANNELS)[number];

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MOBILE_OPTIONS = ['scheduledCall', 'email', 'phoneNumber', 'voicemail'] as const;
export type MobileOption = (typeof MOBILE_OPTIONS)[number];

export const IVR_OPTIONS = ['queue', 'phoneNumber', 'voicemail', 'message'] as const;
export type IvrOption = (typeof IVR_OPTIONS)[number];

export const LANGUAGE_PATTERN = '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$';
export const LANGUAGE_HINT = 'a language tag such as en, en-US or id';

const LanguageTag = (description: string, def?: string) =>
  Type.String({ pattern: LANGUAGE_PATTERN, errorHint: LANGUAGE_HINT, description, ...(def === undefined ? {} : { default: def }) });

/**
 * A map keyed by language tag. The keys are checked by the policy's config
 * check (Ajv's propertyNames would report each bad key twice).
 */
const ByLanguage = <T extends TSchema>(value: T, description: string) => Type.Record(Type.String(), value, { description });

/** A spoken message in one or more languages (TTS text or an uploaded file each). */
const LocalizedPrompt = (description: string) =>
  ByLanguage(PromptSpec, `${description} Keyed by language tag; must include deflection.defaultLanguage.`);

/** `HH:MM-HH:MM`; an end at or before the start crosses midnight; `24:00` is the end of the day. */
export const INTERVAL_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$';
const Interval = Type.String({
  pattern: INTERVAL_PATTERN,
  errorHint: 'a time range HH:MM-HH:MM such as 09:00-17:00 (22:00-06:00 crosses midnight; 00:00-24:00 is the whole day)',
  description: 'Open from the first time to the second, local time.',
});
const Intervals = (description: string) => Type.Array(Interval, { description });

/** `YYYY-MM-DD` for one date, `MM-DD` for the same date every year. */
export const DATE_PATTERN = '^([0-9]{4}-)?[0-9]{2}-[0-9]{2}$';
const ExceptionDate = (description: string) =>
  Type.Optional(
    Type.String({
      pattern: DATE_PATTERN,
      errorHint: 'a date YYYY-MM-DD, or MM-DD for the same date every year',
      description,
    }),
  );

const day = (name: Weekday) => Type.Optional(Intervals(`Open intervals starting on ${name}; absent or empty = closed.`));
const WeeklyHours = Type.Object(
  {
    monday: day('monday'),
    tuesday: day('tuesday'),
    wednesday: day('wednesday'),
    thursday: day('thursday'),
    friday: day('friday'),
    saturday: day('saturday'),
    sunday: day('sunday'),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Weekly hours, local time of the schedule. An interval belongs to the day it starts on.',
  },
);

const ScheduleSchema = Type.Object(
  {
    id: Id('Schedule id, referenced from hours.schedule, hours.channels, hours.languages and queue hours.'),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Human-readable name.' })),
    timeZone: Type.String({
      minLength: 1,
      description: 'IANA time zone of the weekly hours and exception dates, e.g. America/New_York (not an abbreviation such as EST).',
    }),
    weekly: WeeklyHours,
    exceptions: Type.Optional(
      Type.Array(Id('Exception folder id.'), { description: 'Exception folders (holidays, special hours, closures) that apply to this schedule.' }),
    ),
  },
  { additionalProperties: false, description: 'Weekly hours of operation in one time zone.' },
);

const ExceptionEntrySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'What the exception is, e.g. "Christmas Day"; shown in decisions.' }),
    date: ExceptionDate('The one date it applies to (YYYY-MM-DD, or MM-DD every year). Use either date or from/to.'),
    from: ExceptionDate('First date of a range (inclusive).'),
    to: ExceptionDate('Last date of a range (inclusive).'),
    closed: Type.Optional(Type.Boolean({ description: 'Closed all day (local midnight to midnight). Use either closed: true or hours.' })),
    hours: Type.Optional(
      Intervals('Special hours that replace the weekly hours on these dates; they may not cross midnight. An empty list = closed.'),
    ),
  },
  { additionalProperties: false, description: 'A holiday, special hours or a closure. It owns its dates from local midnight to midnight.' },
);

const ExceptionFolderSchema = Type.Object(
  {
    id: Id('Folder id, referenced from schedules[].exceptions and hours.exceptions.'),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Human-readable name.' })),
    entries: Type.Array(ExceptionEntrySchema, { default: [], description: 'The exceptions in this folder.' }),
  },
  { additionalProperties: false, description: 'A named folder of exceptions that several schedules and queues can share.' },
);

const channelSchedule = (c: Channel) => Type.Optional(Id(`Schedule for ${c} contacts.`));
const channelMap = (description: string) =>
  Type.Object(
    { ivr: channelSchedule('ivr'), mobile: channelSchedule('mobile'), web: channelSchedule('web'), sms: channelSchedule('sms'), chat: channelSchedule('chat') },
    { additionalProperties: false, description },
  );

/** Which schedule applies, at one scope (global or one queue and its subtree). */
const HoursScope = (where: string) =>
  Type.Object(
    {
      schedule: Type.Optional(Id(`Schedule for every contact ${where} unless a more specific one applies.`)),
      channels: Type.Optional(channelMap(`Schedule per channel ${where}; beats languages and schedule at the same scope.`)),
      languages: Type.Optional(ByLanguage(Id('Schedule id.'), `Schedule per language ${where}; beats schedule at the same scope.`)),
      exceptions: Type.Optional(
        Type.Array(Id('Exception folder id.'), {
          description: `Exception folders added to whichever schedule applies ${where}.`,
        }),
      ),
    },
    { additionalProperties: false, description: `Hours of operation ${where}.` },
  );

const EmergencySchema = (where: string) =>
  Type.Object(
    {
      force: StringEnum(['closed', 'open'] as const, { description: `Force ${where} closed or open, whatever the schedule says.` }),
      until: Type.Optional(
        Type.String({
          pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})$',
          errorHint: 'an ISO-8601 instant with an offset, such as 2026-12-24T18:00:00-05:00',
          description: 'When the override lapses by itself (absent = until removed from the config).',
        }),
      ),
      reason: Type.Optional(Type.String({ minLength: 1, description: 'Why, for operators; shown in decisions.' })),
      message: Type.Optional(LocalizedPrompt('Announcement played to contacts while forced closed (replaces the after-hours message).')),
    },
    { additionalProperties: false, description: `Emergency override ${where}; checked before exceptions and weekly hours.` },
  );

const IvrOverride = Type.Object(
  {
    option: StringEnum(IVR_OPTIONS, { description: 'What closed IVR calls of this queue get: another queue, a phone number, voicemail, or the message then hang-up.' }),
    queue: Type.Optional(Id('Target queue when option is queue (a leaf queue serving ivr, not this one).')),
    phoneNumber: Type.Optional(E164('Number to send the caller to when option is phoneNumber (extra call charges apply).')),
    message: Type.Optional(LocalizedPrompt('After-hours message for this queue (default: deflection.messages.afterHours).')),
    voicemailGreeting: Type.Optional(LocalizedPrompt('Voicemail greeting for this queue (default: deflection.messages.voicemailGreeting).')),
  },
  { additionalProperties: false, description: 'Custom after-hours deflection for IVR calls of this leaf queue.' },
);

const MobileOverride = Type.Object(
  {
    redirectQueue: Type.Optional(Id('Send closed mobile calls to this queue. Excludes options.')),
    options: Type.Optional(
      Type.Array(StringEnum(MOBILE_OPTIONS, { description: 'A deflection option.' }), {
        uniqueItems: true,
        description: 'Options offered instead (one or more). Excludes redirectQueue.',
      }),
    ),
    phoneNumber: Type.Optional(E164('Number shown as "Call now" when options include phoneNumber.')),
  },
  { additionalProperties: false, description: 'Custom after-hours deflection for mobile SDK calls of this leaf queue: redirectQueue OR options.' },
);

const SmsOverride = Type.Object(
  {
    afterHoursText: ByLanguage(
      Type.String({ minLength: 1, maxLength: 1600, description: 'Plain text (at most 1600 characters).' }),
      'Text sent to the consumer outside hours, by language; must include deflection.defaultLanguage.',
    ),
  },
  { additionalProperties: false, description: 'After-hours SMS message of this leaf queue.' },
);

/** Queue fields read by the policy (schedules, deflection overrides, channels). */
export const QueuePolicyFields = Type.Object({
  channels: Type.Optional(
    Type.Array(StringEnum(CHANNELS, { description: 'A channel.' }), {
      minItems: 1,
      uniqueItems: true,
      description: 'Channels this queue serves (default: all). A queue serving only web is a web queue (no per-queue deflection).',
    }),
  ),
  hours: Type.Optional(HoursScope('in this queue and the queues under it')),
  emergency: Type.Optional(EmergencySchema('this queue and the queues under it')),
  virtualAgent: Type.Optional(
    Type.Object(
      {
        name: Type.String({ minLength: 1, description: 'The virtual agent assigned to this queue.' }),
        availability: StringEnum(['24h', 'queueHours'] as const, {
          description: '24h: it keeps answering outside the queue hours; queueHours: it is limited to the queue hours.',
        }),
      },
      { additionalProperties: false, description: 'Virtual agent assignment and its availability mode.' },
    ),
  ),
  scheduledCalls: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Scheduled calls are enabled in this queue\'s channel settings.' }),
        slotMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 240, description: 'Slot length for this queue (default: deflection.scheduledCalls.slotMinutes).' })),
      },
      { additionalProperties: false, description: 'Scheduled calls (callback slots inside the queue hours).' },
    ),
  ),
  deflection: Type.Optional(
    Type.Object(
      {
        ivr: Type.Optional(IvrOverride),
        mobile: Type.Optional(MobileOverride),
        sms: Type.Optional(SmsOverride),
      },
      {
        additionalProperties: false,
        description: 'Per-leaf-queue after-hours overrides (IVR, mobile, SMS; web has none). Present = custom deflection on.',
      },
    ),
  ),
});

const Email = Type.String({
  pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
  errorHint: 'an email address such as support@example.com',
  description: 'Support-center email address: the one address every email deflection shows.',
});

const DeflectionSchema = Type.Object(
  {
    defaultLanguage: LanguageTag('Language of messages when the contact\'s language has none.', 'en'),
    calls: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'After-hours deflection for calls (IVR and SDK), globally.' }),
        allowTransferOutsideHours: Type.Boolean({
          default: false,
          description: 'Allow agents to transfer calls to queues outside hours (see docs/policy.md for exactly which queues are visible).',
        }),
        ivr: Type.Object(
          {
            option: StringEnum(IVR_OPTIONS, { default: 'message', description: 'What closed IVR calls get by default.' }),
            queue: Type.Optional(Id('Target queue when option is queue (e.g. a 24-hour queue).')),
            phoneNumber: Type.Optional(E164('Number to send callers to when option is phoneNumber.')),
          },
          { additionalProperties: false, default: {}, description: 'IVR call deflection.' },
        ),
        sdk: Type.Object(
          {
            options: Type.Array(StringEnum(MOBILE_OPTIONS, { description: 'A deflection option.' }), {
              uniqueItems: true,
              default: [],
              description: 'Options shown to mobile and web SDK callers outside hours (phoneNumber and voicemail are mobile-only).',
            }),
            phoneNumber: Type.Optional(E164('Number shown as "Call now" when options include phoneNumber.')),
          },
          { additionalProperties: false, default: {}, description: 'Mobile and web SDK call deflection.' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Call settings.' },
    ),
    chat: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'After-hours deflection for chats (SDK chat and SMS), globally.' }),
        option: StringEnum(['email'] as const, { default: 'email', description: 'Chat deflection option: email (the support-center address).' }),
        allowTransferOutsideHours: Type.Boolean({
          default: false,
          description: 'Only while chat deflection is disabled: allow transfers to queues outside hours (see docs/policy.md).',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Chat settings.' },
    ),
    messages: Type.Object(
      {
        afterHours: Type.Optional(LocalizedPrompt('After-hours message (played, then the call ends, with option message).')),
        voicemailGreeting: Type.Optional(LocalizedPrompt('Voicemail greeting.')),
        voicemailBlockedNumber: Type.Optional(LocalizedPrompt('"Voicemail - Blocked phone number": the caller ID is withheld.')),
        voicemailAskNumber: Type.Optional(LocalizedPrompt('"Voicemail - Ask phone number": asks for a callback number on the keypad.')),
        voicemailNumberEntered: Type.Optional(LocalizedPrompt('"Voicemail - Phone number entered successfully".')),
      },
      { additionalProperties: false, default: {}, description: 'Global deflection messages (languages & messages).' },
    ),
    scheduledCalls: Type.Object(
      {
        slotMinutes: Type.Integer({ minimum: 5, maximum: 240, default: 30, description: 'Length of a scheduled-call slot.' }),
        leadMinutes: Type.Integer({ minimum: 0, maximum: 1440, default: 15, description: 'The earliest slot starts at least this long from now.' }),
        offerCount: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'How many slots a decision offers.' }),
      },
      { additionalProperties: false, default: {}, description: 'Scheduled-call slots.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'After-hours deflection and transfer settings.' },
);

/**
 * Hours of operation, exceptions, deflection and transfer settings
 * (owned by src/policy/). Top-level keys are spread into the root schema.
 */
export const PolicyTopLevel = {
  supportCenter: Type.Object(
    { email: Type.Optional(Email) },
    { additionalProperties: false, default: {}, description: 'Support-center details.' },
  ),
  schedules: Type.Array(ScheduleSchema, { default: [], description: 'Hours of operation, each in its own time zone.' }),
  exceptions: Type.Array(ExceptionFolderSchema, { default: [], description: 'Exception folders: holidays, special hours, closures.' }),
  hours: Type.Object(HoursScope('everywhere').properties, {
    additionalProperties: false,
    default: {},
    description: 'Which schedule applies globally, per channel and per language (queues may set their own; the most specific wins).',
  }),
  emergency: Type.Optional(EmergencySchema('every queue (a queue\'s own override wins)')),
  deflection: DeflectionSchema,
};

export type ScheduleConfig = Static<typeof ScheduleSchema>;
export type ExceptionFolderConfig = Static<typeof ExceptionFolderSchema>;
export type ExceptionEntryConfig = Static<typeof ExceptionEntrySchema>;
export type HoursScopeConfig = Static<ReturnType<typeof HoursScope>>;
export type EmergencyConfig = Static<ReturnType<typeof EmergencySchema>>;
export type DeflectionConfig = Static<typeof DeflectionSchema>;
export type LocalizedPromptConfig = Static<ReturnType<typeof LocalizedPrompt>>;
