import { Type } from '@sinclair/typebox';
import { Host, Id, Port, StringEnum } from './common.js';

/** Seven days: no recording is ever kept longer than this (PRODUCT.md §5). */
export const MAX_RETENTION_SECONDS = 7 * 24 * 3600;

/** Bit rates libmp3lame accepts for 8 kHz audio (MPEG-2.5 layer III). */
export const MP3_BITRATES_8K = [8, 16, 24, 32, 40, 48, 56, 64] as const;

const Base64Key = (description: string) =>
  Type.String({
    pattern: '^[A-Za-z0-9+/]{43}=$',
    errorHint: 'a 256-bit key in base64 (44 characters ending in "="), e.g. from: openssl rand -base64 32',
    description,
  });

const HttpUrl = (description: string) =>
  Type.String({ pattern: '^https?://[^\\s]+$', errorHint: 'an http:// or https:// URL', description });

export const RecordingEncryptionSchema = Type.Object(
  {
    keyId: { ...Id('Name of the current key; stored in every encrypted file so older files stay readable after a key change.'), default: 'default' },
    key: Type.Optional(Base64Key('The current 256-bit key (base64). A secret: never logged. Use key or keyFile, not both.')),
    keyFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'File holding the current key (base64). When neither key nor keyFile is set, a key is generated once as <stateDir>/keys/recordings.key (mode 0600); set one for production, and whenever workers run elsewhere (every worker sharing a spool needs the same key).',
      }),
    ),
    previousKeys: Type.Array(
      Type.Object(
        { id: Id('Key name as stored in older files.'), key: Base64Key('The older key (base64).') },
        { additionalProperties: false, description: 'A key that older files may still be encrypted with.' },
      ),
      { default: [], description: 'Retired keys still needed to deliver recordings encrypted before a key change.' },
    ),
    chunkBytes: Type.Integer({
      minimum: 4096,
      maximum: 16 * 1024 * 1024,
      default: 65536,
      description: 'Plaintext bytes per authenticated chunk (AES-256-GCM); each chunk carries its own tag.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Encryption at rest of converted recordings.' },
);

export const RecordingUploadSchema = Type.Object(
  {
    concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Recordings uploaded at once by one worker process.' }),
    initialBackoffMs: Type.Integer({ minimum: 10, default: 5000, description: 'Delay before the first retry of a failed part; doubles on every further failure.' }),
    maxBackoffMs: Type.Integer({ minimum: 10, default: 3_600_000, description: "Longest back-off between two attempts (a CRM's longer Retry-After is still obeyed, up to the retention deadline)." }),
    jitter: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Fraction of each delay that is randomised, so that many recordings do not retry in step.' }),
    lockMs: Type.Integer({
      minimum: 500,
      default: 30_000,
      description: 'Job lock duration: if a worker dies mid-upload, another picks the recording up after about this long.',
    }),
    rateLimit: Type.Object(
      {
        max: Type.Integer({ minimum: 1, default: 10, description: 'Part uploads allowed per window (all workers together).' }),
        durationMs: Type.Integer({ minimum: 1, default: 1000, description: 'Length of the rate-limit window in milliseconds.' }),
      },
      { additionalProperties: false, default: {}, description: "The CRM API's request limit (BullMQ limiter)." },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Delivery to the CRM.' },
);

export const RecordingsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Record calls and deliver the recordings to the CRM.' }),
    convertConcurrency: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 1,
      description: 'Recordings converted at once by one worker process (each runs ffmpeg; on the engine\'s own host, calls come first).',
    }),
    spoolDir: Type.Optional(
      Type.String({ minLength: 1, description: 'Where recordings wait for delivery, encrypted. Default: <node.stateDir>/recordings.' }),
    ),
    captureDir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "rtpengine's recording-dir as seen from here (it writes pcaps/ and metadata/ below it). Default: media.rtpengine.embedded.recordingDir, else <node.stateDir>/rtpengine/recordings (where the embedded rtpengine writes).",
      }),
    ),
    format: StringEnum(['mp3', 'wav'] as const, { default: 'mp3', description: 'Encoding of the delivered file.' }),
    channels: StringEnum(['stereo', 'mono'] as const, {
      default: 'stereo',
      description: 'stereo: caller on the left channel, agent on the right; mono: both mixed.',
    }),
    mp3BitrateKbps: Type.Unsafe<number>({
      type: 'integer',
      enum: [...MP3_BITRATES_8K],
      default: 32,
      description: 'MP3 bit rate (kbit/s) for the 8 kHz recording.',
    }),
    partMaxBytes: Type.Integer({
      minimum: 65536,
      default: 50 * 1024 * 1024,
      description: 'Largest file attached to the CRM; longer recordings become ordered, separately playable parts of at most this size.',
    }),
    retentionSeconds: Type.Integer({
      minimum: 1,
      maximum: MAX_RETENTION_SECONDS,
      default: MAX_RETENTION_SECONDS,
      description: 'A recording not delivered within this time after the call started is deleted and reported as lost (at most 7 days).',
    }),
    sweepIntervalSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 60,
      description: 'Longest pause between two retention sweeps (the sweeper also wakes at the next known deadline).',
    }),
    reconcileIntervalSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 60,
      description: 'How often the worker re-queues recordings found on disk without a job (e.g. after Redis lost data).',
    }),
    encryption: RecordingEncryptionSchema,
    upload: RecordingUploadSchema,
    handover: Type.Object(
      {
        attempts: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 12,
          description:
            "Tries at writing a finished call's recording into the spool (disk full, permissions) before it is reported `failed`; the engine keeps it in memory meanwhile.",
        }),
        initialBackoffMs: Type.Integer({ minimum: 10, default: 1000, description: 'Delay before the second try; doubles with every further failure.' }),
        maxBackoffMs: Type.Integer({ minimum: 10, default: 60_000, description: 'Longest delay between two tries.' }),
      },
      { additionalProperties: false, default: {}, description: 'Handing a finished recording to the pipeline when the spool cannot be written (docs/recordings.md, "Hand-over").' },
    ),
    webhook: Type.Optional(
      Type.Object(
        {
          url: HttpUrl('Receives a JSON POST for every recording event (captured, converted, part-uploaded, uploaded, retrying, failed, expired; docs/recordings.md).'),
          headers: Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), Type.String(), {
            default: {},
            description: 'Extra request headers (e.g. an authorization token).',
          }),
          timeoutMs: Type.Integer({ minimum: 1, default: 5000, description: 'Per-request timeout.' }),
        },
        { additionalProperties: false, description: 'Optional webhook for recording events.' },
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Call recordings: capture, conversion, encryption, parts and delivery.' },
);

export const RedisSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        pattern: '^(redis|rediss)://[^\\s]+$|^unix:///[^\\s]+$',
        errorHint: 'redis://[user:password@]host:port[/db], rediss://... or unix:///path/to/socket',
        description:
          'Redis for the upload queue. Unset: a private redis-server is started under <node.stateDir>/redis (the REDIS_URL environment variable, read by the command line, overrides this).',
      }),
    ),
    keyPrefix: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
      errorHint: 'letters, digits, ".", "_" or "-"',
      default: 'switchboard',
      description: 'Prefix of every Redis key we write, so several deployments can share one Redis.',
    }),
    embedded: Type.Object(
      {
        binary: Type.String({ minLength: 1, default: 'redis-server', description: 'redis-server binary.' }),
        host: Host('TCP address of the embedded Redis when port is not 0.', '127.0.0.1'),
        port: Port('TCP port of the embedded Redis; 0 = none (only its unix socket under the state directory, reachable by this user alone).', 0),
        appendfsync: StringEnum(['always', 'everysec'] as const, {
          default: 'always',
          description: "AOF fsync policy: 'always' loses no acknowledged job on a crash; 'everysec' is faster and may lose the last second.",
        }),
      },
      { additionalProperties: false, default: {}, description: 'The private redis-server used when no url is given.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Redis (BullMQ upload queue).' },
);

export const CrmSchema = Type.Object(
  {
    adapter: StringEnum(['directory', 'http'] as const, {
      default: 'directory',
      description: "Where recordings are delivered: 'directory' (a local folder standing in for a CRM) or 'http' (a CRM's upload API).",
    }),
    timeZone: Type.String({
      minLength: 1,
      default: 'UTC',
      description: 'IANA time zone for the name of anonymous callers\' contacts ("Phone User - MM/DD HH:mm").',
    }),
    channelName: Type.String({ minLength: 1, default: 'Phone', description: 'Channel word in anonymous contact names.' }),
    ticket: Type.Object(
      {
        header: Type.Optional(
          Type.String({
            pattern: '^[A-Za-z0-9!%*_+`\'~.-]+$',
            description:
              "Header of the caller's INVITE that names the CRM ticket (case) of the call, e.g. X-CRM-Ticket, as an IVR or carrier in front sets it. Read from trusted trunks only; the ticket goes with the call's recordings (ticketId), its call record and its details in the API.",
          }),
        ),
        link: Type.Optional(
          Type.String({
            pattern: '^https?://.*\\{ticket\\}',
            description: "The ticket's page in the CRM, with {ticket} where the ticket goes (e.g. https://crm.example.com/cases/{ticket}): the call details' CRM ticket link.",
          }),
        ),
      },
      { additionalProperties: false, default: {}, description: 'The CRM ticket a call belongs to (the product\'s "CRM ticket link").' },
    ),
    directory: Type.Object(
      {
        path: Type.Optional(Type.String({ minLength: 1, description: 'Delivery folder. Default: <node.stateDir>/crm.' })),
      },
      { additionalProperties: false, default: {}, description: 'The local-directory CRM.' },
    ),
    http: Type.Optional(
      Type.Object(
        {
          url: HttpUrl('Upload endpoint; each part is POSTed as multipart/form-data.'),
          authHeader: Type.String({ pattern: '^[A-Za-z0-9-]+$', default: 'Authorization', description: 'Header carrying the credential.' }),
          authValue: Type.Optional(Type.String({ minLength: 1, description: 'Credential sent in authHeader (e.g. "Bearer ..."). A secret: never logged.' })),
          confirmationField: Type.String({
            minLength: 1,
            default: 'attachmentId',
            description: 'Field of the JSON response that confirms a stored part; a response without it is retried.',
          }),
          responseTimeoutMs: Type.Integer({
            minimum: 1,
            default: 60_000,
            description: 'How long to wait for the answer once a part is sent (from its last byte to the response; the idle timeout does not run meanwhile).',
          }),
          idleTimeoutMs: Type.Integer({
            minimum: 1,
            default: 30_000,
            description: "Longest stall of the connection while sending a part, and while reading the CRM's answer once it has begun.",
          }),
        },
        { additionalProperties: false, description: 'The HTTP CRM adapter (required when adapter is http).' },
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'The CRM that receives recordings.' },
);

/** Recording pipeline, Redis and CRM delivery (owned by src/recordings/). */
export const RecordingsTopLevel = {
  recordings: RecordingsSchema,
  redis: RedisSchema,
  crm: CrmSchema,
};

/** Per-queue recording switch (queue fields are flattened into each queue). */
export const QueueRecordingFields = Type.Object({
  recording: Type.Optional(
    Type.Object(
      {
        enabled: Type.Optional(Type.Boolean({ description: 'Record the calls of this queue (from the bridge to the hang-up). Default: recordings.enabled.' })),
      },
      { additionalProperties: false, description: 'Recording of this queue\'s calls.' },
    ),
  ),
});
