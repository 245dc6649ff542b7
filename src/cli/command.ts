import type { Writable } from 'node:stream';

/** What a command gets: its arguments after the command words, and where to print. */
export interface CommandContext {
  readonly argv: readonly string[];
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly cwd: string;
}

export interface Command {
  /** Words that select the command, e.g. ['policy', 'decide']. */
  readonly words: readonly string[];
  readonly summary: string;
  readonly usage: string;
  /** Resolves with the process exit code. Long-running commands resolve when stopped. */
  run(ctx: CommandContext): Promise<number>;
}
