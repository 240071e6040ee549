// The one place the CLI writes to the terminal: results to stdout (plain, table or JSON),
// progress and diagnostics to stderr, colour only on a TTY. Commands never call console directly.
import Table from 'cli-table3';
import pc from 'picocolors';

export interface PrinterOptions {
  readonly json?: boolean;
  readonly color?: boolean;
  readonly quiet?: boolean;
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
}

export class Printer {
  readonly json: boolean;
  private readonly color: boolean;
  private readonly quiet: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;

  constructor(opts: PrinterOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.err = opts.err ?? process.stderr;
    this.json = opts.json ?? false;
    this.quiet = opts.quiet ?? false;
    this.color = opts.color ?? (Boolean((this.out as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR);
  }

  /** A result line (or block) on stdout. Suppressed in --json mode: use data() there. */
  line(text = ''): void {
    if (!this.json) this.out.write(`${text}\n`);
  }

  /** Raw text on stdout, whatever the mode (a template, a squid.conf): the output *is* the result. */
  raw(text: string): void {
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The machine-readable result; printed only with --json. */
  data(value: unknown): void {
    if (this.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A table for people (stdout); in --json mode the caller prints data() instead. */
  table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    if (this.json) return;
    if (rows.length > Printer.BOXED_ROWS_MAX) return this.plainTable(head, rows);
    const t = new Table({ head: head.map((h) => this.bold(h)), style: { head: [], border: [] } });
    for (const r of rows) t.push(r.map(String));
    this.out.write(`${t.toString()}\n`);
  }

  /**
   * Rows above which a table is printed as aligned columns without borders: the boxed renderer recurses
   * per row and overflows the stack near 100,000 rows, and nobody reads borders on that many lines.
   */
  static readonly BOXED_ROWS_MAX = 10_000;

  private plainTable(head: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    const widths = head.map((h) => h.length);
    for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
    const line = (cells: readonly (string | number)[]) =>
      cells
        .map((c, i) => String(c).padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    this.out.write(`${this.bold(line(head))}\n`);
    // Written in chunks: one string of a million rows would be needlessly large.
    for (let i = 0; i < rows.length; i += 5_000)
      this.out.write(
        `${rows
          .slice(i, i + 5_000)
          .map(line)
          .join('\n')}\n`,
      );
  }

  /** Progress for long work, on stderr so stdout stays clean for pipes. */
  step(text: string): void {
    if (!this.quiet) this.err.write(`${this.dim('›')} ${text}\n`);
  }

  warn(text: string): void {
    this.err.write(`${this.paint('warning:', pc.yellow)} ${text}\n`);
  }

  error(text: string): void {
    this.err.write(`${this.paint('error:', pc.red)} ${text}\n`);
  }

  ok(text: string): string {
    return this.paint(text, pc.green);
  }
  bad(text: string): string {
    return this.paint(text, pc.red);
  }
  bold(text: string): string {
    return this.paint(text, pc.bold);
  }
  dim(text: string): string {
    return this.paint(text, pc.dim);
  }
  private paint(text: string, f: (s: string) => string): string {
    return this.color ? f(text) : text;
  }
}
