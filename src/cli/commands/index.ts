import type { Command } from '../command.js';
import { checkConfigCommand } from './check-config.js';
import { configReferenceCommand } from './config-reference.js';

/** Every `switchboard` command. Add new commands here. */
export const commands: readonly Command[] = [checkConfigCommand, configReferenceCommand];
