/**
 * Every prompt the hours policy can name for a call is one that start-up found
 * and pre-rendered: the policy's message references are configuration paths,
 * and the prompt library knows the prompts by the paths of its schema walk.
 * A reference in another form (a queue by id rather than by index) finds no
 * prompt, and the call fails at the moment it should play.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { PromptLibrary } from '../../src/media/prompts/prompt-library.js';
import { PromptRenderer } from '../../src/media/prompts/prompt-renderer.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createPolicy, type Decision, type MessageRef } from '../../src/policy/index.js';
import { mediaTestConfig, tempDir } from './media-test-config.js';

const dir = tempDir('sb-policy-prompts-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const say = (text: string) => ({ text });
const both = (what: string) => ({ en: say(`${what}.`), de: say(`${what} (de).`) });

/** Queues whose ids are not their indexes, a menu with its own closure, and every prompt a call can meet, in two languages. */
const overrides = {
  deflection: {
    defaultLanguage: 'en',
    calls: { enabled: true, ivr: { option: 'message' } },
    messages: {
      afterHours: both('Closed'),
      voicemailGreeting: both('Leave a message'),
      voicemailBlockedNumber: both('Your number is withheld'),
      voicemailAskNumber: both('Key in your number'),
      voicemailNumberEntered: both('Thank you'),
    },
  },
  queues: [
    { id: 'sales', name: 'Sales' },
    { id: 'storm', name: 'Storm', emergency: { force: 'closed', message: both('Closed by the storm') } },
    { id: 'own-message', name: 'Own message', emergency: { force: 'closed' }, deflection: { ivr: { option: 'message', message: both('Our own closing') } } },
    { id: 'own-voicemail', name: 'Own voicemail', emergency: { force: 'closed' }, deflection: { ivr: { option: 'voicemail', voicemailGreeting: both('Our own greeting') } } },
    { id: 'global-voicemail', name: 'Global voicemail', emergency: { force: 'closed' }, deflection: { ivr: { option: 'voicemail' } } },
    { id: 'menu', name: 'Menu', emergency: { force: 'closed', until: '2099-01-01T00:00:00Z', message: both('The menu is closed') } },
    { id: 'leaf', name: 'Leaf', parent: 'menu' },
  ],
};

function refsOf(d: Decision): MessageRef[] {
  const refs = [d.message];
  if (d.action === 'voicemail') refs.push(d.target.greeting, ...Object.values(d.target.callbackPrompts));
  return refs.filter((r): r is MessageRef => r !== null);
}

describe('the prompts a call can meet are pre-rendered', () => {
  it('every message the policy names, for every queue and language, is a configured prompt path', async () => {
    const config = mediaTestConfig(dir, overrides);
    const renderer = new PromptRenderer({ cacheDir: join(dir, 'cache'), espeakBinary: 'espeak-ng', ffmpegBinary: 'ffmpeg', renderTimeoutMs: 20000, logger: silentLogger() });
    const lib = new PromptLibrary({ config, renderer, baseDir: dir, logger: silentLogger() });
    const policy = createPolicy(config);
    const paths = new Set(lib.configuredPaths());
    const named: string[] = [];
    for (const q of config.queues) {
      if (q.id === 'menu') continue; // a menu takes no calls
      for (const language of ['en', 'de', 'de-AT', 'fr']) {
        for (const ref of refsOf(policy.decide({ queue: q.id, channel: 'ivr', at: new Date('2026-12-06T06:00:00Z'), language }))) named.push(ref.path);
      }
    }
    // The closures' own messages are among them, by index, in both languages.
    expect(named).toEqual(expect.arrayContaining(['queues[1].emergency.message.en', 'queues[1].emergency.message.de', 'queues[5].emergency.message.de', 'queues[2].deflection.ivr.message.de', 'queues[3].deflection.ivr.voicemailGreeting.de']));
    expect(named.filter((p) => !paths.has(p))).toEqual([]);
    // And each renders as found (the closure's own message, spoken in German under its key).
    const storm = await lib.configuredPrompt('queues[1].emergency.message.de');
    expect(storm.key).toBe(await renderer.keyOf({ kind: 'tts', text: 'Closed by the storm (de).', language: 'de', speed: 1 }));
  });
});
