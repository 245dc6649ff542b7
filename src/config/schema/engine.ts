import { Type } from '@sinclair/typebox';
import { Id, SipUri } from './common.js';

/** Engine-wide call routing settings. */
export const EngineSchema = Type.Object(
  {
    ringTimeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 600,
      default: 20,
      description: 'How long an agent leg may ring before the next agent is tried (queues may override).',
    }),
    maxCallSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 14400,
      description: 'Calls older than this are ended by the engine as stuck (the seed suggests 5 hours as a practice).',
    }),
    outboundTrunk: Type.Optional(Id('The outbound trunk (trunks.outbound[].id) phone-number deflections go through. Default: the only one configured.')),
    drain: Type.Object(
      {
        maxSeconds: Type.Number({
          minimum: 0,
          default: 30,
          description: 'On SIGTERM, live calls may go on for this long before they are ended; new INVITEs get 503 meanwhile.',
        }),
        retryAfterSeconds: Type.Integer({ minimum: 1, default: 30, description: 'Retry-After of the 503 sent to new calls while draining.' }),
        deliverySeconds: Type.Number({
          minimum: 0,
          default: 60,
          description:
            "After the drained calls have ended, how long to wait for their recordings to be delivered (uploaded or failed) before the recordings worker child is stopped; what is still pending stays in the spool and is delivered at the next start.",
        }),
      },
      { additionalProperties: false, default: {}, description: 'Graceful shutdown.' },
    ),
    callRecords: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Write one JSON line per ended call.' }),
        file: Type.Optional(Type.String({ minLength: 1, description: 'The JSON-lines file. Default: <stateDir>/calls/records.jsonl.' })),
      },
      { additionalProperties: false, default: {}, description: 'Call records (one per call, when it ends).' },
    ),
    voicemail: Type.Object(
      {
        maxSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 120, description: 'Longest voicemail message.' }),
        silenceSeconds: Type.Integer({ minimum: 1, maximum: 60, default: 5, description: 'A message ends after this long with no sound from the caller.' }),
        beep: Type.Boolean({ default: true, description: 'A short tone (1 kHz, 0.4 s) after the greeting, as callers expect ("leave a message after the tone"); the recording starts after it.' }),
        callbackDigits: Type.Object(
          {
            min: Type.Integer({ minimum: 3, maximum: 15, default: 7, description: 'Fewest digits of a callback number keyed in.' }),
            max: Type.Integer({ minimum: 3, maximum: 15, default: 15, description: 'Most digits (E.164 allows 15).' }),
          },
          { additionalProperties: false, default: {}, description: 'Length of a callback number keyed in by DTMF, then #; digits 0-9 only (one with * or A-D is asked for again, like one too short or too long).' },
        ),
        digitTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 60, default: 8, description: 'Time allowed between keys (and for the first key) when keying in a callback number.' }),
        attempts: Type.Integer({ minimum: 1, maximum: 5, default: 2, description: 'Tries at keying in a valid callback number before the voicemail goes on without one.' }),
        notifyWebhook: Type.Optional(
          Type.String({ pattern: '^https?://[^\\s]+$', errorHint: 'an http:// or https:// URL', description: 'POSTed a JSON notice when a queue with a voicemail opens again.' }),
        ),
      },
      { additionalProperties: false, default: {}, description: 'Voicemail (the after-hours voicemail deflection).' },
    ),
    recordingCodes: Type.Object(
      {
        pause: Type.Optional(Type.String({ pattern: '^[0-9*#]{1,4}$', errorHint: 'DTMF keys such as *7', description: 'Keys the agent presses to pause the recording (redaction).' })),
        resume: Type.Optional(Type.String({ pattern: '^[0-9*#]{1,4}$', errorHint: 'DTMF keys such as *8', description: 'Keys the agent presses to resume the recording.' })),
      },
      { additionalProperties: false, default: {}, description: 'In-call DTMF codes for the agent (RFC 4733 or SIP INFO); off unless set. When set, the caller of a recorded call hears none of the agent\'s keys.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Call routing.' },
);

/** The queue fields that the engine's routing reads. */
export const QueueRoutingFields = Type.Object({
  numbers: Type.Optional(
    Type.Array(Type.String({ pattern: '^[A-Za-z0-9+*#._-]+$' }), {
      description: 'Dialed numbers (Request-URI user part) that select this queue.',
    }),
  ),
  agents: Type.Optional(
    Type.Array(SipUri('Agent target.'), {
      description: 'Agent targets (SIP URIs), tried one after another in this order.',
    }),
  ),
  ringTimeoutSeconds: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, maximum: 600, description: 'Ring timeout per agent for this queue.' }),
  ),
});
