// The egresshub CLI: turns the declarative command table into commander commands, handles the
// global flags once, and maps errors to exit codes (0 ok, 1 failure, 2 bad input).
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../config/errors';
import type { CommandContext, CommandSpec, GlobalOptions } from './command';
import { COMMAND_TABLE, type CommandEntry } from './commands';
import { describeFsError } from './paths';
import { Printer } from './printer';

export async function main(
  argv: readonly string[],
  io: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {},
  /** The command table. @default COMMAND_TABLE (each command loaded on first use; tests pass a static one) */
  table: readonly CommandEntry[] = COMMAND_TABLE,
): Promise<number> {
  let exitCode = 0;
  let printer = new Printer({ out: io.out, err: io.err });
  const program = new Command('egresshub')
    .description('Centralised HTTP(S) egress for AWS VPCs with overlapping CIDRs: a Squid hub published over PrivateLink.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--json', 'machine-readable output (JSON on stdout)'))
    .addOption(new Option('--no-color', 'no ANSI colours'))
    .addOption(new Option('--debug', 'show stack traces on errors'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (io.out ?? process.stdout).write(s),
      writeErr: (s) => (io.err ?? process.stderr).write(s),
    });

  const contextFor = (cmd: Command): CommandContext => {
    const g = cmd.optsWithGlobals<Partial<GlobalOptions>>();
    const global: GlobalOptions = { json: Boolean(g.json), debug: Boolean(g.debug), color: g.color !== false };
    printer = new Printer({ out: io.out, err: io.err, json: global.json, color: global.color ? undefined : false });
    return { printer, global, commands: table };
  };

  const attach = (parent: Command, spec: CommandSpec) => {
    const cmd = parent.command(spec.name).description(spec.summary);
    cmd.exitOverride();
    spec.configure?.(cmd);
    onlyOnce(cmd);
    for (const sub of spec.subcommands ?? []) attach(cmd, sub);
    if (spec.run) {
      const run = spec.run;
      cmd.action(async (...params: unknown[]) => {
        const self = params[params.length - 1] as Command;
        const args = self.args.slice(0, self.registeredArguments.length);
        exitCode = await run(contextFor(self), self.opts(), args);
      });
    }
  };
  const misplaced = misplacedOption(argv, table);
  if (misplaced) {
    printer.error(misplaced);
    return 2;
  }
  const help = argv.find((a) => !a.startsWith('-'));
  if (help === 'help') {
    const asked = argv.slice(argv.indexOf('help') + 1).find((a) => !a.startsWith('-'));
    if (asked !== undefined && !table.some((c) => c.name === asked)) {
      printer.error(`help ${asked}: there is no command "${asked}"; the commands are ${table.map((c) => c.name).join(', ')}`);
      return 2;
    }
  }
  // Only the command being run is loaded; with no known command (e.g. `--help`, a typo) all of them are,
  // so the listing and commander's "did you mean" suggestions stay complete.
  const named = table.find((c) => c.name === firstCommand(argv));
  const versionOnly = !named && argv.some((a) => a === '--version' || a === '-V');
  for (const entry of named ? [named] : versionOnly ? [] : table) attach(program, entry.load());

  try {
    await program.parseAsync(['node', 'egresshub', ...argv]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    const debug = argv.includes('--debug');
    if (e instanceof UsageError) {
      printer.error(e.message);
      if (debug) printer.error(e.stack ?? '');
      return 2;
    }
    printer.error(e instanceof Error ? failureLine(e) : String(e));
    if (debug && e instanceof Error && e.stack) printer.error(e.stack);
    else printer.error('(run again with --debug for details)');
    return 1;
  }
}

/**
 * A one-value option given twice (`--tenant a --tenant b`) is refused: commander keeps the last silently, so the
 * user would never learn which one counted. Repeatable options (`--reserve`, `--price`) have a parser of their
 * own and lists (`--log <file...>`) take several values; both are left alone.
 */
function onlyOnce(cmd: Command): void {
  for (const option of cmd.options) {
    // A parser of its own means a repeatable option, except the one commander adds to check .choices().
    if (!option.required || option.variadic || (option.parseArg && !option.argChoices)) continue;
    const check = option.parseArg;
    let seen: string | undefined;
    option.argParser((value: string, previous: unknown) => {
      if (seen !== undefined)
        throw new UsageError(`${option.long ?? option.short} is given twice ("${seen}", then "${value}"); keep the one you mean`);
      seen = value;
      return check ? check(value, previous) : value;
    });
  }
}

/**
 * A failure as one line. A filesystem error (a disk that fills up during synth, a file removed under us) says
 * what was being done to which path in words, instead of Node's `ENOSPC: no space left on device, write`.
 */
function failureLine(e: Error): string {
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (code === undefined || syscall === undefined || !/^E[A-Z]+$/.test(code)) return e.message;
  const verb = /write|open|mkdir|copy|rename|unlink|rm/.test(syscall) ? 'write' : 'read';
  return `cannot ${verb} ${path ?? 'a file'}: ${describeFsError(code)}`;
}

/** Options that belong to the program itself, so they may come before the command. */
const GLOBAL_OPTIONS = new Set(['--json', '--no-color', '--debug', '-V', '--version', '-h', '--help']);

/**
 * A command's option typed before the command (`egresshub -c x.yaml validate`): commander would only say
 * "unknown option '-c'". Says where it goes instead; undefined when the order is fine.
 */
function misplacedOption(argv: readonly string[], table: readonly CommandEntry[]): string | undefined {
  const at = argv.findIndex((a) => table.some((c) => c.name === a));
  if (at <= 0) return undefined;
  const before = argv.slice(0, at);
  const option = before.find((a) => a.startsWith('-') && !GLOBAL_OPTIONS.has(a));
  if (option === undefined) return undefined;
  const global = before.filter((a) => GLOBAL_OPTIONS.has(a));
  const own = before.filter((a) => !GLOBAL_OPTIONS.has(a));
  const fixed = ['egresshub', ...global, argv[at]!, ...own, ...argv.slice(at + 1)].join(' ');
  return `${option} comes before the command ${argv[at]!}, where only --json, --no-color and --debug go; put the command's options after it, e.g. ${fixed}`;
}

/** The first word that is not a global option: the command's name, if any. */
function firstCommand(argv: readonly string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'));
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../package.json') as { version: string }).version;

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
