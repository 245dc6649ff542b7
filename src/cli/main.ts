#!/usr/bin/env node
import { commands } from './commands/index.js';
import { runCli } from './run.js';

const code = await runCli(commands, process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
process.exitCode = code;
