/**
 * The configured prompts, by meaning: the whisper (with countdown) of each
 * queue and call type, the ringback the caller hears meanwhile, and every
 * PromptSpec anywhere in the configuration (after-hours and voicemail
 * messages...). Everything is pre-rendered at start-up, so the connect path
 * only ever hits the cache.
 */
import { isAbsolute, resolve } from 'node:path';
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { MediaStateError, PromptInputError, PromptMissingError, PromptRenderError } from '../media-errors.js';
import { findConfiguredPrompts, type ConfiguredPrompt, type PromptSpecValue } from './configured-prompts.js';
import type { PromptRenderer, PromptSource, RenderedPrompt } from './prompt-renderer.js';
import { fillTemplate } from './templates.js';

/** Pause between the whisper and the countdown. */
const WHISPER_COUNTDOWN_GAP_MS = 250;
/** Between the sentences of a spoken announcement (caller number, then the wait). */
const SENTENCE_GAP_MS = 300;

export interface PromptLibraryOptions {
  readonly config: SwitchboardConfig;
  readonly renderer: PromptRenderer;
  /** Relative upload paths are resolved against this directory. */
  readonly baseDir: string;
  readonly logger: Logger;
}

export interface PrerenderReport {
  readonly rendered: number;
  readonly cacheHits: number;
  readonly prompts: number;
  readonly ms: number;
}

export class PromptLibrary {
  private readonly configured: Map<string, ConfiguredPrompt>;

  constructor(private readonly options: PromptLibraryOptions) {
    this.configured = new Map(findConfiguredPrompts(options.config).map((p) => [p.path, p]));
  }

  /**
   * The same library for an edited configuration (a reload of the hours policy and its messages),
   * sharing the renderer and its cache: prompts that did not change are not rendered again.
   */
  withConfig(config: PromptLibraryOptions['config']): PromptLibrary {
    return new PromptLibrary({ ...this.options, config });
  }

  get renderer(): PromptRenderer {
    return this.options.renderer;
  }

  private get defaultLanguage(): string {
    return this.options.config.media.prompts.language;
  }

  private uploadPath(file: string): string {
    return isAbsolute(file) ? file : resolve(this.options.baseDir, file);
  }

  /** The source for a PromptSpec (text → TTS, file → converted recording). */
  sourceOfSpec(spec: PromptSpecValue, defaults: { language?: string; speed?: number } = {}): PromptSource {
    const speed = spec.speed ?? defaults.speed ?? 1;
    if (spec.text !== undefined && spec.file === undefined) {
      return { kind: 'tts', text: spec.text, language: spec.language ?? defaults.language ?? this.defaultLanguage, speed };
    }
    if (spec.file !== undefined && spec.text === undefined) return { kind: 'file', file: this.uploadPath(spec.file), speed };
    throw new MediaStateError('a prompt needs exactly one of text and file');
  }

  /** Renders any PromptSpec (cached). */
  async fromSpec(spec: PromptSpecValue, defaults: { language?: string; speed?: number } = {}): Promise<RenderedPrompt> {
    return this.options.renderer.render(this.sourceOfSpec(spec, defaults));
  }

  /**
   * Sentences spoken one after another, each rendered and cached on its own: a new combination
   * (caller number 7, about 3 minutes) joins cached sentences and starts no process.
   */
  async spoken(texts: readonly string[], language: string): Promise<RenderedPrompt> {
    const parts = texts.map((text) => this.sourceOfSpec({ text }, { language }));
    return this.options.renderer.render(parts.length === 1 ? parts[0]! : { kind: 'sequence', parts, gapMs: SENTENCE_GAP_MS });
  }

  /** Paths of every PromptSpec in the configuration. */
  configuredPaths(): string[] {
    return [...this.configured.keys()];
  }

  /** The prompt configured at `path` (e.g. `policy.afterHours.message.en`), rendered. */
  async configuredPrompt(path: string): Promise<RenderedPrompt> {
    const p = this.configured.get(path);
    if (p === undefined) throw new PromptMissingError(path);
    return this.fromSpec(p.spec, p.languageKey !== undefined ? { language: p.languageKey } : {});
  }

  /**
   * What the agent hears for a call of `callType` from queue `queueId`:
   * the whisper then the countdown, as the queue (or the global settings)
   * ask; undefined when neither is on.
   */
  whisperSource(queueId: string, callType: string): PromptSource | undefined {
    const { config } = this.options;
    const queue = config.queues.find((q) => q.id === queueId);
    if (queue === undefined) throw new MediaStateError(`unknown queue "${queueId}"`);
    const global = config.media.whisper;
    if (global.callTypes[callType] === undefined) {
      throw new MediaStateError(`unknown call type "${callType}"; configured: ${Object.keys(global.callTypes).join(', ')}`);
    }
    const qw = queue.whisper;
    const enabled = qw?.enabled ?? global.enabled;
    const countdown = qw?.countdown ?? global.countdown;
    const speed = qw?.speed ?? global.speed;
    // The global texts are in their own language; the queue's language speaks them only where translated.
    const textsLanguage = global.language ?? this.defaultLanguage;
    const language = qw?.language ?? textsLanguage;
    const tr = translationFor(global.translations, language);
    const inQueueLanguage = (text: string | undefined): { text: string; language: string } | undefined => (text !== undefined ? { text, language } : undefined);
    const spoken = tr?.callTypes?.[callType] ?? global.callTypes[callType];
    const values = { 'Call Type': spoken, 'Queue Name': queue.name };
    const parts: PromptSource[] = [];
    if (enabled) {
      if (qw?.type === 'audio') {
        if (qw.file === undefined) throw new MediaStateError(`queue ${queueId}: whisper type 'audio' has no file`);
        parts.push({ kind: 'file', file: this.uploadPath(qw.file), speed });
      } else {
        if (qw?.type === 'tts' && qw.text === undefined) throw new MediaStateError(`queue ${queueId}: whisper type 'tts' has no text`);
        const said = qw?.type === 'tts' ? inQueueLanguage(qw.text)! : (inQueueLanguage(tr?.text) ?? { text: global.text, language: textsLanguage });
        parts.push({ kind: 'tts', text: fillTemplate(said.text, values), language: said.language, speed });
      }
    }
    if (countdown) {
      const said = inQueueLanguage(tr?.countdownText) ?? { text: global.countdownText, language: textsLanguage };
      parts.push({ kind: 'tts', text: said.text, language: said.language, speed });
    }
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : { kind: 'sequence', parts, gapMs: WHISPER_COUNTDOWN_GAP_MS };
  }

  /** The rendered whisper (+ countdown) for a queue and call type; undefined when off. */
  async whisperFor(queueId: string, callType: string): Promise<RenderedPrompt | undefined> {
    const source = this.whisperSource(queueId, callType);
    return source === undefined ? undefined : this.options.renderer.render(source);
  }

  /** What the caller hears during the whisper; undefined for silence. */
  async callerHold(): Promise<RenderedPrompt | undefined> {
    const w = this.options.config.media.whisper;
    return w.callerHears === 'ringback' ? this.options.renderer.render({ kind: 'ringback', plan: w.ringbackTone }) : undefined;
  }

  /** Every source that start-up must render, with a label saying where it comes from. */
  private everything(): { label: string; source: () => PromptSource | undefined }[] {
    const { config } = this.options;
    const out: { label: string; source: () => PromptSource | undefined }[] = [];
    const w = config.media.whisper;
    if (w.callerHears === 'ringback') out.push({ label: 'media.whisper.ringbackTone', source: () => ({ kind: 'ringback', plan: w.ringbackTone }) });
    config.queues.forEach((q, i) => {
      for (const callType of Object.keys(w.callTypes)) {
        out.push({ label: `queues[${i}] (${q.id}) whisper for ${callType}`, source: () => this.whisperSource(q.id, callType) });
      }
    });
    for (const p of this.configured.values()) {
      out.push({ label: p.path, source: () => this.sourceOfSpec(p.spec, p.languageKey !== undefined ? { language: p.languageKey } : {}) });
    }
    return out;
  }

  /**
   * Renders every configured prompt. After trying them all, throws one error
   * listing every prompt that failed with where it is configured:
   * PromptInputError when an upload is at fault, PromptRenderError otherwise.
   */
  async prerenderAll(): Promise<PrerenderReport> {
    const started = performance.now();
    const before = { ...this.options.renderer.stats };
    const failures: string[] = [];
    let firstFile = '';
    let count = 0;
    // One at a time: start-up on a 2-core machine should not fork dozens of renderers at once.
    for (const item of this.everything()) {
      try {
        const source = item.source();
        if (source === undefined) continue;
        count++;
        await this.options.renderer.render(source);
      } catch (e) {
        failures.push(`${item.label}: ${(e as Error).message}`);
        if (firstFile === '' && e instanceof PromptInputError) firstFile = e.file;
      }
    }
    if (failures.length > 0) {
      const message = `${failures.length} configured prompt${failures.length === 1 ? '' : 's'} could not be rendered:\n  - ${failures.join('\n  - ')}`;
      throw firstFile !== '' ? new PromptInputError(message, firstFile) : new PromptRenderError(message);
    }
    const after = this.options.renderer.stats;
    const report = { rendered: after.renders - before.renders, cacheHits: after.cacheHits - before.cacheHits, prompts: count, ms: Math.round(performance.now() - started) };
    this.options.logger.info(report, 'prompts pre-rendered');
    return report;
  }
}

/** The translation for `language`: its own, else its primary subtag's (id-ID: id). */
function translationFor<T>(translations: Readonly<Record<string, T>>, language: string): T | undefined {
  return translations[language] ?? translations[language.split('-')[0]!];
}
