import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PromptLibrary } from '../../src/media/prompts/prompt-library.js';
import { PromptRenderer } from '../../src/media/prompts/prompt-renderer.js';
import { silentLogger } from '../../src/observability/logger.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';

const dir = tempDir('sb-library-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function library(overrides: Record<string, unknown>): PromptLibrary {
  // The uploads named here are never read (whisperSource only says what would be rendered).
  const config = mediaTestConfig(dir, overrides, { checkFiles: false });
  const renderer = new PromptRenderer({ cacheDir: join(dir, 'cache'), espeakBinary: 'espeak-ng', ffmpegBinary: 'ffmpeg', renderTimeoutMs: 20000, logger: silentLogger() });
  return new PromptLibrary({ config, renderer, baseDir: '/uploads', logger: silentLogger() });
}

const countdown = "You're connected - call will begin in 3, 2, 1";

describe('whisper settings: global defaults, queue overrides', () => {
  it('"{Call Type} from {Queue Name}" then the countdown, by default', () => {
    expect(library({}).whisperSource('sales', 'inbound')).toEqual({
      kind: 'sequence',
      gapMs: 250,
      parts: [
        { kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 },
        { kind: 'tts', text: countdown, language: 'en', speed: 1 },
      ],
    });
  });

  it('global speed, language and countdown off', () => {
    expect(library({ media: { whisper: { speed: 1.4, language: 'en-US', countdown: false } } }).whisperSource('sales', 'inbound')).toEqual({
      kind: 'tts',
      text: 'Inbound call from Sales',
      language: 'en-US',
      speed: 1.4,
    });
  });

  it('a queue\'s own TTS text, speed and countdown override the global ones', () => {
    const lib = library({
      media: { whisper: { callTypes: { inbound: 'Inbound call', callback: 'Callback' } } },
      queues: [{ id: 'vip', name: 'VIP', whisper: { type: 'tts', text: 'Priority {Call Type} for {Queue Name}', speed: 1.5, countdown: false } }],
    });
    expect(lib.whisperSource('vip', 'callback')).toEqual({ kind: 'tts', text: 'Priority Callback for VIP', language: 'en', speed: 1.5 });
  });

  it('an uploaded whisper is played at the queue\'s speed, relative paths against the base directory', () => {
    const lib = library({ queues: [{ id: 'billing', name: 'Billing', whisper: { type: 'audio', file: 'whispers/billing.mp3', speed: 1.2 } }] });
    expect(lib.whisperSource('billing', 'inbound')).toEqual({
      kind: 'sequence',
      gapMs: 250,
      parts: [
        { kind: 'file', file: '/uploads/whispers/billing.mp3', speed: 1.2 },
        { kind: 'tts', text: countdown, language: 'en', speed: 1.2 },
      ],
    });
  });

  it('whisper off globally, on for one queue; everything off means no prompt at all', () => {
    const lib = library({
      media: { whisper: { enabled: false, countdown: false } },
      queues: [
        { id: 'a', name: 'A' },
        { id: 'b', name: 'B', whisper: { enabled: true } },
      ],
    });
    expect(lib.whisperSource('a', 'inbound')).toBeUndefined();
    expect(lib.whisperSource('b', 'inbound')).toEqual({ kind: 'tts', text: 'Inbound call from B', language: 'en', speed: 1 });
  });

  it("a queue in another language: translated texts in its voice; untranslated ones in the texts' own language, never read by the wrong voice", () => {
    const queues = [
      { id: 'dukungan', name: 'Dukungan', whisper: { language: 'id' } },
      { id: 'jakarta', name: 'Jakarta', whisper: { language: 'id-ID', type: 'tts', text: '{Call Type} untuk {Queue Name}' } },
    ];
    // Nothing translated: the English texts keep the English voice.
    expect(library({ queues }).whisperSource('dukungan', 'inbound')).toMatchObject({
      parts: [
        { kind: 'tts', text: 'Inbound call from Dukungan', language: 'en' },
        { kind: 'tts', text: countdown, language: 'en' },
      ],
    });
    const translated = library({
      queues,
      media: { whisper: { callTypes: { inbound: 'Inbound call', callback: 'Callback' }, translations: { id: { text: '{Call Type} dari {Queue Name}', countdownText: 'Anda terhubung - panggilan dimulai dalam 3, 2, 1', callTypes: { inbound: 'Panggilan masuk' } } } } },
    });
    expect(translated.whisperSource('dukungan', 'inbound')).toMatchObject({
      parts: [
        { kind: 'tts', text: 'Panggilan masuk dari Dukungan', language: 'id' },
        { kind: 'tts', text: 'Anda terhubung - panggilan dimulai dalam 3, 2, 1', language: 'id' },
      ],
    });
    // id-ID takes the id translation; the queue's own text is in its own language; an untranslated call type keeps its name.
    expect(translated.whisperSource('jakarta', 'callback')).toMatchObject({
      parts: [
        { kind: 'tts', text: 'Callback untuk Jakarta', language: 'id-ID' },
        { kind: 'tts', text: 'Anda terhubung - panggilan dimulai dalam 3, 2, 1', language: 'id-ID' },
      ],
    });
  });

  it('unknown queues and call types are errors naming what exists', () => {
    const lib = library({});
    expect(() => lib.whisperSource('nope', 'inbound')).toThrow(/unknown queue "nope"/);
    expect(() => lib.whisperSource('sales', 'walk-in')).toThrow(/unknown call type "walk-in"; configured: inbound/);
  });

  it('configured prompts are found by their path; a message under a language key is spoken in that language', async () => {
    const lib = library({ deflection: { messages: { afterHours: { en: { text: 'Closed.' }, de: { text: 'Geschlossen.' } } } } });
    expect(lib.configuredPaths()).toEqual(['deflection.messages.afterHours.en', 'deflection.messages.afterHours.de']);
    const german = await lib.configuredPrompt('deflection.messages.afterHours.de');
    expect(german.key).toBe(await lib.renderer.keyOf({ kind: 'tts', text: 'Geschlossen.', language: 'de', speed: 1 }));
    await expect(lib.configuredPrompt('deflection.messages.closed.en')).rejects.toThrow(/no prompt is configured at deflection\.messages\.closed\.en/);
  });
});
