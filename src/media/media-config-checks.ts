/**
 * Configuration checks of the media plane that a schema cannot express:
 * every prompt anywhere in the file has exactly one of text and file, whisper
 * settings of each queue fit their type, prompt texts use only placeholders
 * that will have a value, uploaded prompt files exist, and the rtpengine
 * settings are coherent.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { forEachItem, type ConfigCheck, type ConfigCheckContext, type SwitchboardConfig } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';
import { findConfiguredPrompts, sectionsWithPrompts } from './prompts/configured-prompts.js';
import { placeholdersOf, WHISPER_PLACEHOLDERS } from './prompts/templates.js';

/** Fewer RTP ports than this cannot carry even a couple of calls (each party takes an RTP/RTCP port pair). */
const MIN_PORTS = 16;

/** "Exactly one of text and file", for every PromptSpec in the configuration. */
export const promptSpecCheck: ConfigCheck = {
  name: 'media: prompts have exactly one of text and file',
  sections: sectionsWithPrompts(),
  check(config: SwitchboardConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    forEachItem(findConfiguredPrompts(config), ({ path, spec }) => {
      const hasText = spec.text !== undefined;
      const hasFile = spec.file !== undefined;
      if (hasText && hasFile) problems.push({ path, message: 'a prompt takes either text (spoken by TTS) or file (an uploaded recording), not both' });
      if (!hasText && !hasFile) problems.push({ path, message: 'a prompt needs text (spoken by TTS) or file (an uploaded recording); it has neither' });
    });
    return problems;
  },
};

function unknownPlaceholders(text: string, allowed: readonly string[]): string[] {
  return placeholdersOf(text).filter((p) => !allowed.includes(p));
}

function placeholderProblem(path: string, text: string, allowed: readonly string[]): ConfigProblem | undefined {
  const bad = unknownPlaceholders(text, allowed);
  if (bad.length === 0) return undefined;
  const can = allowed.length === 0 ? 'no placeholders are allowed here' : `allowed: ${allowed.map((a) => `{${a}}`).join(', ')}`;
  return { path, message: `unknown placeholder${bad.length > 1 ? 's' : ''} ${bad.map((b) => `{${b}}`).join(', ')}; ${can}` };
}

/** rtpengine, whisper and per-queue whisper settings. */
export const mediaSettingsCheck: ConfigCheck = {
  name: 'media: rtpengine and whisper settings',
  sections: ['media', 'queues'],
  check(config: SwitchboardConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const { rtpengine, whisper } = config.media;
    const e = rtpengine.embedded;
    if (rtpengine.mode === 'embedded') {
      if (e.portMax - e.portMin + 1 < MIN_PORTS) {
        problems.push({
          path: 'media.rtpengine.embedded.portMax',
          message: `the RTP port range ${e.portMin}-${e.portMax} must hold at least ${MIN_PORTS} ports (portMax above portMin)`,
        });
      }
      if (e.ngPort !== 0 && e.ngPort === e.cliPort) {
        problems.push({ path: 'media.rtpengine.embedded.cliPort', message: `the CLI port must differ from the ng port (${e.ngPort})` });
      }
      if (e.ngPort !== 0 && e.ngPort >= e.portMin && e.ngPort <= e.portMax) {
        problems.push({ path: 'media.rtpengine.embedded.ngPort', message: `the ng port ${e.ngPort} lies inside the RTP port range ${e.portMin}-${e.portMax}` });
      }
      if (rtpengine.external.length > 0) {
        problems.push({ path: 'media.rtpengine.external', message: "external instances are listed but mode is 'embedded'; set mode: external or remove them" });
      }
    } else if (rtpengine.external.length === 0) {
      problems.push({ path: 'media.rtpengine.external', message: "mode 'external' needs at least one rtpengine instance (host and port)" });
    }
    if (rtpengine.retransmitMs >= rtpengine.requestTimeoutMs) {
      problems.push({
        path: 'media.rtpengine.retransmitMs',
        message: `must be shorter than requestTimeoutMs (${rtpengine.requestTimeoutMs}), or a lost ng message is never sent again`,
      });
    }
    const p1 = placeholderProblem('media.whisper.text', whisper.text, WHISPER_PLACEHOLDERS);
    if (p1 !== undefined) problems.push(p1);
    const p2 = placeholderProblem('media.whisper.countdownText', whisper.countdownText, []);
    if (p2 !== undefined) problems.push(p2);
    for (const [language, t] of Object.entries(whisper.translations)) {
      const at = `media.whisper.translations.${language}`;
      if (t.text !== undefined) {
        const p = placeholderProblem(`${at}.text`, t.text, WHISPER_PLACEHOLDERS);
        if (p !== undefined) problems.push(p);
      }
      if (t.countdownText !== undefined) {
        const p = placeholderProblem(`${at}.countdownText`, t.countdownText, []);
        if (p !== undefined) problems.push(p);
      }
      for (const type of Object.keys(t.callTypes ?? {})) {
        if (whisper.callTypes[type] === undefined) problems.push({ path: `${at}.callTypes.${type}`, message: `unknown call type; media.whisper.callTypes has ${Object.keys(whisper.callTypes).join(', ')}` });
      }
    }
    forEachItem(config.queues, (q, i) => {
      const w = q.whisper;
      if (w === undefined) return;
      const at = `queues[${i}].whisper`;
      if (w.type === 'tts') {
        if (w.text === undefined) problems.push({ path: at, message: "type 'tts' needs text (what to say)" });
        if (w.file !== undefined) problems.push({ path: `${at}.file`, message: "type 'tts' speaks text; file is for type 'audio'" });
        if (w.text !== undefined) {
          const p = placeholderProblem(`${at}.text`, w.text, WHISPER_PLACEHOLDERS);
          if (p !== undefined) problems.push(p);
        }
      } else if (w.type === 'audio') {
        if (w.file === undefined) problems.push({ path: at, message: "type 'audio' needs file (the uploaded recording)" });
        if (w.text !== undefined) problems.push({ path: `${at}.text`, message: "type 'audio' plays file; text is for type 'tts'" });
      } else {
        if (w.text !== undefined) problems.push({ path: `${at}.text`, message: "type 'queue-name' says media.whisper.text; text is for type 'tts'" });
        if (w.file !== undefined) problems.push({ path: `${at}.file`, message: "type 'queue-name' says media.whisper.text; file is for type 'audio'" });
      }
    });
    return problems;
  },
};

/** Why an uploaded prompt file cannot be used, or undefined when it is a readable file. */
function fileProblem(file: string, context: ConfigCheckContext | undefined): string | undefined {
  const path = isAbsolute(file) ? file : resolve(context?.baseDir ?? process.cwd(), file);
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? (e as Error).message})`;
  }
}

/**
 * Every uploaded prompt (PromptSpec files and queues' whisper recordings)
 * exists and can be read, so that a typo is refused at load with the other
 * problems, not at start-up while prompts render.
 */
export const promptFilesCheck: ConfigCheck = {
  name: 'media: uploaded prompt files exist',
  sections: [...new Set([...sectionsWithPrompts(), 'queues'])],
  check(config: SwitchboardConfig, context?: ConfigCheckContext): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    forEachItem(findConfiguredPrompts(config), ({ path, spec }) => {
      const why = spec.file !== undefined ? fileProblem(spec.file, context) : undefined;
      if (why !== undefined) problems.push({ path: `${path}.file`, message: why });
    });
    forEachItem(config.queues, (q, i) => {
      const why = q.whisper?.type === 'audio' && q.whisper.file !== undefined ? fileProblem(q.whisper.file, context) : undefined;
      if (why !== undefined) problems.push({ path: `queues[${i}].whisper.file`, message: why });
    });
    return problems;
  },
};

/** Every media check, for src/app/config-checks.ts. */
export const mediaConfigChecks: readonly ConfigCheck[] = [promptSpecCheck, mediaSettingsCheck, promptFilesCheck];
