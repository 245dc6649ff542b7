import type { Command } from '../command.js';
import { callsEndCommand, callsListCommand, callsMonitorCommand, callsShowCommand } from './calls.js';
import { checkConfigCommand } from './check-config.js';
import { configReferenceCommand } from './config-reference.js';
import { keysAddCommand, keysListCommand, keysRevokeCommand } from './keys.js';
import { openapiCommand } from './openapi.js';
import { policyDecideCommand } from './policy-decide.js';
import { policySlotsCommand } from './policy-slots.js';
import { policyTransferTargetsCommand } from './policy-transfer-targets.js';
import { recordingsWorkerCommand } from './recordings-worker.js';
import { sipServerCommand } from './sip-server.js';
import { startCommand } from './start.js';

/** Every `switchboard` command. Add new commands here. */
export const commands: readonly Command[] = [
  startCommand,
  sipServerCommand,
  checkConfigCommand,
  configReferenceCommand,
  policyDecideCommand,
  policyTransferTargetsCommand,
  policySlotsCommand,
  recordingsWorkerCommand,
  keysAddCommand,
  keysRevokeCommand,
  keysListCommand,
  callsListCommand,
  callsShowCommand,
  callsMonitorCommand,
  callsEndCommand,
  openapiCommand,
];
