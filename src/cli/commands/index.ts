import type { Command } from '../command.js';
import { checkConfigCommand } from './check-config.js';
import { configReferenceCommand } from './config-reference.js';
import { sipServerCommand } from './sip-server.js';
import { startCommand } from './start.js';

/** Every `switchboard` command. Add new commands here. */
export const commands: readonly Command[] = [startCommand, sipServerCommand, checkConfigCommand, configReferenceCommand];
