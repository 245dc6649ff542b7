import { Type } from '@sinclair/typebox';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject, loadConfigText } from '../../src/config/load.js';
import { PromptSpec } from '../../src/config/schema/common.js';
import { ConfigError } from '../../src/errors.js';
import { findConfiguredPrompts } from '../../src/media/prompts/configured-prompts.js';

function problems(value: unknown): string[] {
  try {
    loadConfigObject(value, { checks: configChecks });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('media config checks', () => {
  it('the defaults pass', () => {
    expect(problems({})).toEqual([]);
  });

  it('"exactly one of text and file" is checked for every prompt in the file, wherever it is declared, with its path', () => {
    expect(
      problems({
        deflection: { messages: { afterHours: { en: { text: 'We are closed.', file: 'closed.mp3' }, de: { language: 'de' } }, voicemailGreeting: { en: { text: 'Leave a message.' } } } },
        queues: [{ id: 'q1', name: 'Sales', deflection: { ivr: { option: 'voicemail', voicemailGreeting: { en: { speed: 1.2 } } } } }],
      }),
    ).toEqual([
      'queues[0].deflection.ivr.voicemailGreeting.en: a prompt needs text (spoken by TTS) or file (an uploaded recording); it has neither',
      'deflection.messages.afterHours.en: a prompt takes either text (spoken by TTS) or file (an uploaded recording), not both',
      'deflection.messages.afterHours.de: a prompt needs text (spoken by TTS) or file (an uploaded recording); it has neither',
      `deflection.messages.afterHours.en.file: ${resolve('closed.mp3')} does not exist`,
    ]);
  });

  it('finds PromptSpec values under any schema (properties, arrays, maps, unions)', () => {
    const schema = Type.Object({
      a: PromptSpec,
      list: Type.Array(Type.Object({ greeting: Type.Optional(PromptSpec) })),
      byLanguage: Type.Record(Type.String(), PromptSpec),
      either: Type.Union([Type.String(), PromptSpec]),
      notAPrompt: Type.Object({ text: Type.String() }),
    });
    const found = findConfiguredPrompts(
      { a: { text: 'x' }, list: [{}, { greeting: { file: 'g.wav' } }], byLanguage: { 'en-US': { text: 'hi' }, other: { text: 'y' } }, either: { text: 'z' }, notAPrompt: { text: 'no' } },
      schema,
    );
    expect(found.map((p) => [p.path, p.languageKey])).toEqual([
      ['a', undefined],
      ['list[1].greeting', undefined],
      ['byLanguage.en-US', 'en-US'],
      ['byLanguage.other', undefined],
      ['either', undefined],
    ]);
  });

  it('whisper settings of a queue must fit its type', () => {
    expect(
      problems({
        queues: [
          { id: 'a', name: 'A', whisper: { type: 'tts' } },
          { id: 'b', name: 'B', whisper: { type: 'audio', text: 'hello' } },
          { id: 'c', name: 'C', whisper: { type: 'queue-name', file: 'x.mp3' } },
          { id: 'd', name: 'D', whisper: { type: 'tts', text: 'Call for {Queue Name} about {Topic}' } },
          { id: 'e', name: 'E', whisper: { type: 'audio', file: 'sales.mp3', speed: 1.5, countdown: false } },
        ],
      }),
    ).toEqual([
      "queues[0].whisper: type 'tts' needs text (what to say)",
      "queues[1].whisper: type 'audio' needs file (the uploaded recording)",
      "queues[1].whisper.text: type 'audio' plays file; text is for type 'tts'",
      "queues[2].whisper.file: type 'queue-name' says media.whisper.text; file is for type 'audio'",
      'queues[3].whisper.text: unknown placeholder {Topic}; allowed: {Call Type}, {Queue Name}',
      `queues[4].whisper.file: ${resolve('sales.mp3')} does not exist`,
    ]);
  });

  it('whisper and countdown texts use only placeholders that get a value', () => {
    expect(problems({ media: { whisper: { text: '{Call Type} for {Queue}', countdownText: 'Starting in {N}' } } })).toEqual([
      'media.whisper.text: unknown placeholder {Queue}; allowed: {Call Type}, {Queue Name}',
      'media.whisper.countdownText: unknown placeholder {N}; no placeholders are allowed here',
    ]);
  });

  it("a translation's texts use the same placeholders, and names only call types that exist", () => {
    expect(problems({ media: { whisper: { translations: { id: { text: '{Jenis} dari {Queue Name}', countdownText: 'Mulai {N}', callTypes: { inbound: 'Panggilan masuk', walkin: 'Tamu' } } } } } })).toEqual([
      'media.whisper.translations.id.text: unknown placeholder {Jenis}; allowed: {Call Type}, {Queue Name}',
      'media.whisper.translations.id.countdownText: unknown placeholder {N}; no placeholders are allowed here',
      'media.whisper.translations.id.callTypes.walkin: unknown call type; media.whisper.callTypes has inbound, transfer, callback',
    ]);
  });

  it('rtpengine settings must be coherent', () => {
    expect(problems({ media: { rtpengine: { embedded: { portMin: 40000, portMax: 40005, ngPort: 40002, cliPort: 40002 }, retransmitMs: 4000 } } })).toEqual([
      'media.rtpengine.embedded.portMax: the RTP port range 40000-40005 must hold at least 16 ports (portMax above portMin)',
      'media.rtpengine.embedded.cliPort: the CLI port must differ from the ng port (40002)',
      'media.rtpengine.embedded.ngPort: the ng port 40002 lies inside the RTP port range 40000-40005',
      'media.rtpengine.retransmitMs: must be shorter than requestTimeoutMs (3000), or a lost ng message is never sent again',
    ]);
    expect(problems({ media: { rtpengine: { mode: 'external' } } })).toEqual([
      "media.rtpengine.external: mode 'external' needs at least one rtpengine instance (host and port)",
    ]);
    expect(problems({ media: { rtpengine: { external: [{ host: '10.0.0.5', port: 2223 }] } } })).toEqual([
      "media.rtpengine.external: external instances are listed but mode is 'embedded'; set mode: external or remove them",
    ]);
    expect(problems({ media: { rtpengine: { mode: 'external', external: [{ host: '10.0.0.5', port: 2223, promptDelivery: 'file', promptDir: '/mnt/prompts' }] } } })).toEqual([]);
  });

  it('schema errors in the media section name the setting and its line', () => {
    let message = '';
    try {
      loadConfigText('media:\n  whisper:\n    sped: 1.5\n    ringbackTone: fr\n', { file: 'm.yaml', checks: configChecks });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('m.yaml:3:5: media.whisper: unknown setting "sped" (did you mean "speed"?)');
    expect(message).toContain('m.yaml:4:19: media.whisper.ringbackTone: expected one of: us, uk, eu; got "fr"');
  });
});
