import { Type } from '@sinclair/typebox';
import { Host, Port, StringEnum } from './common.js';

/*
 * Media plane: rtpengine, prompts, whisper and countdown, monitoring (owned by
 * src/media/, explained in docs/media.md). Top-level keys are spread into the
 * root schema; queue fields are flattened into each queue.
 */

const LANGUAGE = {
  pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
  errorHint: 'a language tag such as en, en-US or id',
};

const Speed = (description: string, def?: number) =>
  Type.Number({ minimum: 0.5, maximum: 2, description, ...(def === undefined ? {} : { default: def }) });

const EmbeddedRtpengine = Type.Object(
  {
    binary: Type.String({ minLength: 1, default: 'rtpengine', description: 'The rtpengine daemon (Debian package rtpengine-daemon).' }),
    interface: Host('Local address rtpengine relays RTP on.', '127.0.0.1'),
    advertisedAddress: Type.Optional(Host('Address written into SDP instead of `interface` (when behind NAT).')),
    portMin: Port('Lowest RTP port rtpengine may use.', 30000),
    portMax: Port('Highest RTP port rtpengine may use (each party of a call, and each monitor subscription line, takes an RTP/RTCP port pair).', 39999),
    ngPort: Port('UDP port of the ng control protocol on 127.0.0.1 (0 picks a free port at start).', 0),
    cliPort: Port('TCP port of the rtpengine CLI (rtpengine-ctl) on 127.0.0.1 (0 picks a free port at start).', 0),
    logLevel: Type.Integer({ minimum: 0, maximum: 7, default: 5, description: 'rtpengine log level (syslog levels; 5 = notice, 6 = info, 7 = debug).' }),
    recordingDir: Type.Optional(
      Type.String({ minLength: 1, description: 'Where rtpengine writes pcap recordings. Default: <stateDir>/rtpengine/recordings.' }),
    ),
    threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'rtpengine worker threads. Default: one per CPU core.' })),
  },
  { additionalProperties: false, default: {}, description: 'The private rtpengine the engine starts and supervises (mode: embedded).' },
);

const ExternalRtpengine = Type.Object(
  {
    host: Host('Address of the rtpengine ng control port.'),
    port: Port('ng control port (Debian default 2223).'),
    promptDelivery: StringEnum(['file', 'inline'] as const, {
      default: 'inline',
      description:
        "How prompts reach this rtpengine: 'file' (it reads our prompt cache through a shared filesystem, see promptDir) or 'inline' (the audio is sent in the ng message; prompts up to about 7 s).",
    }),
    promptDir: Type.Optional(
      Type.String({ minLength: 1, description: "With promptDelivery 'file': where this rtpengine sees our prompt cache directory. Default: the same path." }),
    ),
  },
  { additionalProperties: false, description: 'An rtpengine run by someone else.' },
);

const RtpengineNotificationSettings = Type.Object(
  {
    host: Host('Address the engine listens on for what rtpengine reports: DTMF events (dtmf-log-dest) and calls it closed for lack of media (b2b-url).', '127.0.0.1'),
    dtmfPort: Port('UDP port for rtpengine\'s DTMF log (0 picks a free port; external instances need a fixed one in their dtmf-log-dest).', 0),
    timeoutPort: Port('HTTP port for rtpengine\'s XML-RPC teardown of timed-out calls (0 picks a free port; external instances need a fixed one in their b2b-url, with xmlrpc-format = 1).', 0),
  },
  { additionalProperties: false, default: {}, description: 'Listeners for rtpengine\'s notifications; the embedded rtpengine is configured to use them.' },
);

const RtpengineSettings = Type.Object(
  {
    mode: StringEnum(['embedded', 'external'] as const, {
      default: 'embedded',
      description: "'embedded': start a private rtpengine under the state directory; 'external': use the instances listed in `external`.",
    }),
    embedded: EmbeddedRtpengine,
    external: Type.Array(ExternalRtpengine, { default: [], description: 'External rtpengine instances (mode: external); each call is placed on one healthy instance.' }),
    requestTimeoutMs: Type.Integer({ minimum: 50, maximum: 60000, default: 3000, description: 'Time an ng request may take, retransmissions included.' }),
    retransmitMs: Type.Integer({ minimum: 10, maximum: 10000, default: 500, description: 'Wait before the first retransmission of an unanswered ng request; each next wait doubles, up to four times this (an overloaded rtpengine gets fewer repeats).' }),
    healthCheckMs: Type.Integer({ minimum: 100, default: 5000, description: 'Interval of the health check of external instances: an ng statistics request (ping for an rtpengine without it) tells healthy ones from unreachable ones, and their uptime tells one restarted (its calls lost there are then ended).' }),
    notifications: RtpengineNotificationSettings,
  },
  { additionalProperties: false, default: {}, description: 'rtpengine, the media relay.' },
);

const PromptSettings = Type.Object(
  {
    cacheDir: Type.Optional(Type.String({ minLength: 1, description: 'Rendered prompt cache. Default: <stateDir>/prompts.' })),
    espeakBinary: Type.String({ minLength: 1, default: 'espeak-ng', description: 'Text-to-speech program (Debian package espeak-ng).' }),
    ffmpegBinary: Type.String({ minLength: 1, default: 'ffmpeg', description: 'ffmpeg (Debian package ffmpeg).' }),
    language: Type.String({ ...LANGUAGE, default: 'en', description: 'Default language (TTS voice) of prompts that name none.' }),
    renderTimeoutMs: Type.Integer({ minimum: 1000, default: 30000, description: 'Longest a single render (espeak-ng or ffmpeg run) may take.' }),
    renderConcurrency: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 2,
      description: 'Most espeak-ng and ffmpeg runs at once; more renders wait their turn (a burst of new texts, such as the positions of many waiting callers, cannot starve the engine).',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Rendering of prompts (TTS and uploaded audio) into the 8 kHz playback format.' },
);

const WhisperSettings = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: '"Use whisper for calls": the agent hears the whisper before the caller is connected. Queues may override.' }),
    speed: Speed('Whisper read speed as a multiple of normal (1 = normal). Queues may override.', 1),
    countdown: Type.Boolean({ default: true, description: '"Use countdown for calls": play the countdown after the whisper. Queues may override.' }),
    language: Type.Optional(Type.String({ ...LANGUAGE, description: 'Whisper language. Default: prompts.language.' })),
    text: Type.String({
      minLength: 1,
      default: '{Call Type} from {Queue Name}',
      description: 'What the whisper says (placeholders: {Call Type}, {Queue Name}).',
    }),
    countdownText: Type.String({
      minLength: 1,
      default: "You're connected - call will begin in 3, 2, 1",
      description: 'What the countdown says.',
    }),
    callTypes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), Type.String({ minLength: 1 }), {
      default: { inbound: 'Inbound call', transfer: 'Transferred call', callback: 'Callback' },
      description: 'Spoken name of each call type ({Call Type}), keyed by the id the engine uses. Whispers are pre-rendered for every queue and call type.',
    }),
    translations: Type.Record(
      Type.String(LANGUAGE),
      Type.Object(
        {
          text: Type.Optional(Type.String({ minLength: 1, description: 'The whisper in this language (placeholders: {Call Type}, {Queue Name}).' })),
          countdownText: Type.Optional(Type.String({ minLength: 1, description: 'The countdown in this language.' })),
          callTypes: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), Type.String({ minLength: 1 }), { description: 'Spoken names of call types in this language.' })),
        },
        { additionalProperties: false },
      ),
      {
        default: {},
        description:
          "The whisper's texts in other languages, keyed by language tag (a queue's whisper language, or its primary subtag: id-ID uses id). text, countdownText and callTypes above are in media.whisper.language (else prompts.language): a text with no translation for a queue's language is spoken in the voice of the language it is written in, not read by the queue's voice.",
      },
    ),
    callerHears: StringEnum(['ringback', 'silence'] as const, {
      default: 'ringback',
      description: 'What the caller hears while the agent hears the whisper (never the whisper itself).',
    }),
    ringbackTone: StringEnum(['us', 'uk', 'eu'] as const, {
      default: 'us',
      description: 'Ringback cadence: us = 440+480 Hz 2 s on 4 s off; uk = 400+450 Hz 0.4/0.2/0.4 on, 2 s off; eu = 425 Hz 1 s on 4 s off.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Whisper and countdown played to the agent before the bridge.' },
);

const MonitorSettings = Type.Object(
  {
    bindAddress: Host('Local address of the monitor mixer sockets (must be reachable from rtpengine and the supervisors).', '127.0.0.1'),
    jitterMs: Type.Integer({
      minimum: 0,
      maximum: 500,
      default: 60,
      description:
        "Most the mix waits for a monitored party's late packet (ms). The mix goes out as soon as every party's packet is in; only a late or lost packet is waited for, as long as the party's measured jitter calls for (RFC 3550), between minJitterMs and this.",
    }),
    minJitterMs: Type.Integer({
      minimum: 0,
      maximum: 500,
      default: 10,
      description: "Least the mix waits for a monitored party's late packet (ms; capped by jitterMs), however steady its stream has been.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Silent monitoring: the mixer of per-party streams.' },
);

const MediaTimeoutSettings = Type.Object(
  {
    seconds: Type.Integer({
      minimum: 1,
      default: 60,
      description:
        'A connected call (bridged to an agent or a phone number) from which rtpengine has received no RTP from any party for this long is ended with BYE to every leg ("media timeout"). Callers still waiting (ringback, whisper, announcements) are not timed out: most phones send nothing before the answer.',
    }),
    onHoldSeconds: Type.Integer({ minimum: 1, default: 3600, description: 'The same while the call is on hold (either side sendonly or inactive).' }),
    oneSideSeconds: Type.Integer({
      minimum: 1,
      default: 300,
      description:
        'A connected call not on hold in which one party has sent no RTP for this long (a caller whose connection dropped while the agent still sends) is ended the same way, "media timeout (no audio from the caller)". Minutes: a phone with voice activity detection may pause while it listens.',
    }),
  },
  { additionalProperties: false, default: {}, description: "Ending calls whose media has stopped (checked by the engine from rtpengine's per-stream packet times)." },
);

/** Media plane: rtpengine, prompts, whisper and countdown (owned by src/media/). */
export const MediaTopLevel = {
  media: Type.Object(
    {
      enabled: Type.Boolean({
        default: true,
        description:
          'Anchor every call at rtpengine (the product). false: signaling only, SDP passed end to end (a load baseline, or behind an SBC that anchors media); no whisper, recording or monitoring, and message and voicemail deflections get 480.',
      }),
      rtpengine: RtpengineSettings,
      timeout: MediaTimeoutSettings,
      prompts: PromptSettings,
      whisper: WhisperSettings,
      monitor: MonitorSettings,
    },
    { additionalProperties: false, default: {}, description: 'Media plane: rtpengine, prompts, whisper and monitoring.' },
  ),
};

/** Per-queue whisper settings; unset fields fall back to media.whisper. */
export const QueueWhisper = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Whisper on or off for this queue. Default: media.whisper.enabled.' })),
    type: StringEnum(['queue-name', 'tts', 'audio'] as const, {
      default: 'queue-name',
      description: "'queue-name': say media.whisper.text (\"{Call Type} from {Queue Name}\"); 'tts': say `text`; 'audio': play `file`.",
    }),
    text: Type.Optional(Type.String({ minLength: 1, description: "With type 'tts': the text (placeholders: {Call Type}, {Queue Name})." })),
    file: Type.Optional(Type.String({ minLength: 1, description: "With type 'audio': the uploaded recording (mp3 or wav)." })),
    speed: Type.Optional(Speed('Read speed for this queue (recordings keep their pitch). Default: media.whisper.speed.')),
    countdown: Type.Optional(Type.Boolean({ description: 'Countdown on or off for this queue. Default: media.whisper.countdown.' })),
    language: Type.Optional(Type.String({ ...LANGUAGE, description: 'Whisper language for this queue. Default: media.whisper.language.' })),
  },
  { additionalProperties: false, description: 'Whisper announcement of this queue.' },
);

/** Queue fields read by the media plane (whisper settings). */
export const QueueMediaFields = Type.Object({
  whisper: Type.Optional(QueueWhisper),
});
