import { Type, type TInteger, type TString, type TUnsafe } from '@sinclair/typebox';

/** A TCP/UDP port number. */
export const Port = (description: string, def?: number): TInteger =>
  Type.Integer({ minimum: 0, maximum: 65535, description, ...(def === undefined ? {} : { default: def }) });

/** A host name or IP literal (IPv6 without brackets). */
export const Host = (description: string, def?: string): TString =>
  Type.String({ minLength: 1, description, ...(def === undefined ? {} : { default: def }) });

/** A SIP or SIPS URI such as `sip:1001@192.0.2.20:5060;transport=tcp`. */
export const SipUri = (description: string): TString =>
  Type.String({ pattern: '^sips?:[^\\s]+$', description, errorHint: 'a SIP URI such as sip:1001@192.0.2.20:5060' });

/** An E.164 telephone number: `+` then 2 to 15 digits, the first not zero. */
export const E164 = (description: string): TString =>
  Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$', description, errorHint: 'an E.164 number such as +15551234567 (+, then 2 to 15 digits, the first not 0)' });

/**
 * `errorHint` (a keyword of ours, ignored by JSON Schema) says in words what a
 * `pattern` expects, so that validation errors never print a raw regex.
 */

/** Identifiers used as keys across the config (queue ids, schedule ids, ...). */
export const Id = (description: string): TString =>
  Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    description,
    errorHint: 'an identifier: a letter or digit, then up to 63 letters, digits, ".", "_" or "-"',
  });

/**
 * A string restricted to a list of values, emitted as JSON Schema `enum` (not
 * `anyOf`), so that a mistake reads "expected one of: a, b, c".
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * Something to say to a party: text spoken by TTS (espeak-ng) or an uploaded
 * recording (mp3/wav). Exactly one of `text` and `file` is given (a check in
 * src/media enforces it, with the path of the offending prompt). Used by
 * after-hours and voicemail messages (policy) and by whisper/countdown (media);
 * src/media renders every configured prompt ahead of time.
 */
export const PromptSpec = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, description: 'Text to speak with TTS. May contain {placeholders} where the prompt allows them.' })),
    file: Type.Optional(Type.String({ minLength: 1, description: 'Uploaded audio file (mp3 or wav) to play instead of TTS.' })),
    language: Type.Optional(
      Type.String({
        pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
        errorHint: 'a language tag such as en, en-US or id',
        description: 'Language of the text (chooses the TTS voice). Default: the queue or engine language.',
      }),
    ),
    speed: Type.Optional(
      Type.Number({ minimum: 0.5, maximum: 2, description: 'Read speed as a multiple of normal (1 = normal); recordings keep their pitch.' }),
    ),
  },
  { additionalProperties: false, description: 'A prompt: TTS text or an uploaded audio file.' },
);
