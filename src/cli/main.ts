#!/usr/bin/env node
import { commands } from './commands/index.js';
import { runCli } from './run.js';

// A reader that goes away early (`switchboard config-reference | head -3`) is not a failure: stop quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const code = await runCli(commands, process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
process.exitCode = code;
// Long-running commands return once they have stopped everything they started; a timer a library
// leaves armed (BullMQ's job waits, ~10 s) must not hold the process, or its supervisor's stop, that long.
setTimeout(() => process.exit(code), 1000).unref();
