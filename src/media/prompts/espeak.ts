/**
 * Text to speech with espeak-ng (Debian package espeak-ng): the text goes in
 * on stdin (never as an argument, so a text starting with "-" is still text),
 * the voice is chosen from the language tag, and the read speed is espeak's
 * words per minute (175 is its normal rate).
 */
import { spawn } from 'node:child_process';
import { OutputTail } from '../../daemon/output-tail.js';
import { PromptRenderError } from '../media-errors.js';

/** espeak-ng's default rate in words per minute; speed 1 = this. */
export const ESPEAK_NORMAL_WPM = 175;

/** espeak-ng voice name for a language tag: espeak names voices in lower case (en-us, pt-br). */
export function espeakVoice(language: string): string {
  return language.toLowerCase();
}

/** Words per minute for a speed multiple, within what espeak-ng accepts. */
export function espeakWordsPerMinute(speed: number): number {
  return Math.max(80, Math.min(450, Math.round(ESPEAK_NORMAL_WPM * speed)));
}

export interface EspeakOptions {
  readonly binary: string;
  readonly text: string;
  readonly voice: string;
  readonly wordsPerMinute: number;
  /** WAV file to write (espeak-ng writes 22050 Hz mono 16-bit). */
  readonly outFile: string;
  readonly timeoutMs: number;
}

/** Runs espeak-ng to completion; rejects with PromptRenderError carrying its stderr. */
export function runEspeak(options: EspeakOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail = new OutputTail(2048);
    const child = spawn(options.binary, ['-v', options.voice, '-s', String(options.wordsPerMinute), '-w', options.outFile, '--stdin'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stderr.on('data', (c: Buffer) => tail.push(c));
    child.stdin.on('error', () => undefined); // it may exit (bad voice) before reading the text
    child.stdin.end(options.text);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new PromptRenderError(`espeak-ng could not run (${options.binary}): ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve();
        return;
      }
      const why = signal !== null ? `was killed by ${signal}` : `exited with status ${String(code)}`;
      const text = tail.text();
      reject(new PromptRenderError(`espeak-ng ${why} rendering voice "${options.voice}"${text !== '' ? `: ${text}` : ''}`));
    });
  });
}
