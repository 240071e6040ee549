// Options shared by many commands, declared once.
import type { Command } from 'commander';
import { buildPlan, DEFAULT_CONFIG_FILE, loadConfigFile, type EgressPlan } from '../config';

export function addConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'the egresshub config file', DEFAULT_CONFIG_FILE);
}

/** Loads and validates the config named by --config, then builds the plan (throws ConfigError). */
export function planFromOptions(opts: Record<string, unknown>): EgressPlan {
  const file = typeof opts.config === 'string' ? opts.config : DEFAULT_CONFIG_FILE;
  return buildPlan(loadConfigFile(file));
}
