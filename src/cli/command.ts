// What a CLI command is: a declarative entry in the command table. main.ts turns the table into
// commander commands; each command lives in its own module under commands/.
import type { Command } from 'commander';
import type { Printer } from './printer';

export interface GlobalOptions {
  readonly json: boolean;
  readonly debug: boolean;
  readonly color: boolean;
}

export interface CommandContext {
  readonly printer: Printer;
  readonly global: GlobalOptions;
  /** Every command's name and loader (for commands about commands, such as `completion`). */
  readonly commands: readonly { readonly name: string; readonly load: () => CommandSpec }[];
}

export interface CommandSpec {
  /** Name as typed, e.g. `validate` or `spoke-template`. */
  readonly name: string;
  readonly summary: string;
  /** Adds arguments, options and (for groups) sub-commands. */
  readonly configure?: (cmd: Command) => void;
  /** Runs the command; returns the exit code (0 ok, 1 failure). Bad input throws UsageError (exit 2). */
  readonly run?: (ctx: CommandContext, opts: Record<string, unknown>, args: string[]) => Promise<number> | number;
  /** Sub-commands (e.g. `lab up`), each a full spec. */
  readonly subcommands?: readonly CommandSpec[];
}
