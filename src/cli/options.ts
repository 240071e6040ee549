// Options shared by many commands, declared once: `--config` means the same, with the same help, in every
// command that reads a config.
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { buildPlan, DEFAULT_CONFIG_FILE, loadConfigFile, UsageError, type EgressPlan } from '../config';
import { readNumber, type NumberBounds } from '../untrusted/number';

export const CONFIG_HELP = `the egresshub config file (default: ./${DEFAULT_CONFIG_FILE})`;

/**
 * Adds `-c, --config <file>`. `optionalUse` marks a command that also works without a config and says what
 * the config adds there (it reads ./egresshub.yaml only when that file exists).
 */
export function addConfigOption(cmd: Command, optionalUse?: string): Command {
  return cmd.option('-c, --config <file>', optionalUse ? `${CONFIG_HELP}, if present: ${optionalUse}` : CONFIG_HELP);
}

/** The config file a command reads: --config, else ./egresshub.yaml. */
export function configFile(opts: Record<string, unknown>): string {
  return typeof opts.config === 'string' ? opts.config : DEFAULT_CONFIG_FILE;
}

/** For commands whose config is optional: --config, else ./egresshub.yaml when it exists, else none. */
export function optionalConfigFile(opts: Record<string, unknown>): string | undefined {
  if (typeof opts.config === 'string') return opts.config;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/** Loads and validates the config named by --config, then builds the plan (throws ConfigError). */
export function planFromOptions(opts: Record<string, unknown>): EgressPlan {
  return buildPlan(loadConfigFile(configFile(opts)));
}

/**
 * The plan of an optional config (optionalConfigFile), or undefined. A ./egresshub.yaml read without -c that
 * fails says so: the user may have given every input as flags and not know the file was read at all.
 */
export function optionalPlanFromOptions(opts: Record<string, unknown>): EgressPlan | undefined {
  const file = optionalConfigFile(opts);
  if (file === undefined) return undefined;
  try {
    return buildPlan(loadConfigFile(file));
  } catch (e) {
    if (typeof opts.config === 'string' || !(e instanceof UsageError)) throw e;
    throw new UsageError(
      `${e.message}\n(./${DEFAULT_CONFIG_FILE} was read because it is in the current directory and -c was not given: fix it, pass -c FILE, or run from another directory)`,
    );
  }
}

/**
 * `--no-proxy <list>`, the one spelling of NO_PROXY entries on every command. Commander reads a `--no-`
 * flag as the negation of `--proxy`, which doctor also has: this one is a plain option named `noProxy`.
 */
export function noProxyOption(help: string): Option {
  const o = new Option('--no-proxy <list>', help);
  o.negate = false;
  return o;
}

/** The comma-separated entries of --no-proxy. */
export function noProxyList(opts: Record<string, unknown>): string[] {
  return typeof opts.noProxy === 'string'
    ? opts.noProxy
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/**
 * A number typed on the command line, within `bounds` (src/untrusted/number.ts): `1e308`, `Infinity` or a
 * 20-digit count is refused with one line naming the flag, the range and an example (exit 2).
 */
export function numberOption(raw: string, flag: string, bounds: NumberBounds, example: string): number {
  const r = readNumber(raw, bounds);
  if (!r.ok) throw new UsageError(`${flag} expects ${r.expected} (got "${raw}"); e.g. ${flag} ${example}`);
  return r.value;
}
