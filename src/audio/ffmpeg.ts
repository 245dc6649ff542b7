/**
 * The one way we run ffmpeg: the Debian system binary, spawned with an argument
 * list (never a shell string), with its exit status checked and the tail of its
 * stderr kept for the error. No fluent-ffmpeg (deprecated), no ffmpeg-static
 * (downloads a binary at install time).
 */
import { spawn } from 'node:child_process';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import { OutputTail } from '../daemon/output-tail.js';

export interface FfmpegRunOptions {
  /** Arguments after `ffmpeg -hide_banner -nostdin -loglevel error`. */
  readonly args: readonly string[];
  /** Binary to run; `ffmpeg` from PATH by default. */
  readonly binary?: string;
  /** Kill the process when aborted (the promise then rejects). */
  readonly signal?: AbortSignal;
  /** Data to write to stdin (then closed); stdin is not used when absent. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Receives stdout when the output goes to `pipe:1`. */
  readonly stdout?: NodeJS.WritableStream;
  readonly timeoutMs?: number;
}

export class FfmpegError extends SwitchboardError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(ErrorCodes.FFMPEG, message);
  }
}

/** Runs ffmpeg to completion. Resolves with its stderr tail (warnings) on exit status 0. */
export function runFfmpeg(options: FfmpegRunOptions): Promise<string> {
  const binary = options.binary ?? 'ffmpeg';
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...options.args];
  if (options.stdin !== undefined) args.splice(args.indexOf('-nostdin'), 1);
  return new Promise((resolve, reject) => {
    const tail = new OutputTail(4096);
    const child = spawn(binary, args, {
      stdio: [options.stdin !== undefined ? 'pipe' : 'ignore', options.stdout !== undefined ? 'pipe' : 'ignore', 'pipe'],
      signal: options.signal,
    });
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    }
    child.stderr?.on('data', (c: Buffer) => tail.push(c));
    if (options.stdout !== undefined && child.stdout !== null) child.stdout.pipe(options.stdout);
    if (options.stdin !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined); // ffmpeg may exit before reading everything
      options.stdin.pipe(child.stdin);
    }
    child.on('error', (e) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(new FfmpegError(`ffmpeg could not run (${binary}): ${e.message}`, null, tail.text()));
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (code === 0) {
        resolve(tail.text());
        return;
      }
      const how = signal !== null ? `was killed by ${signal}` : `exited with status ${String(code)}`;
      const text = tail.text();
      reject(new FfmpegError(`ffmpeg ${how}${text !== '' ? `: ${text.split('\n').slice(-3).join(' | ')}` : ''}`, code, text));
    });
  });
}
