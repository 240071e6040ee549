// The one place the CLI writes to the terminal: results to stdout (plain, table or JSON),
// progress and diagnostics to stderr, colour only where that stream is a TTY. Commands never call console
// directly. Text is written with its control characters escaped (src/untrusted/text.ts) but for the printer's
// own colours, so a value that slipped past its command's escaping still cannot drive the terminal.
import Table from 'cli-table3';
import picocolors from 'picocolors';
import { redactUrls } from '../untrusted/redact';
import { terminalSafeOutput } from '../untrusted/text';

/** Always-on colours: the printer decides per stream (picocolors alone would decide by stdout for both). */
const pc = picocolors.createColors(true);

/** Characters JSON.stringify leaves raw that a terminal may obey (C1 controls, bidi marks): as `\uXXXX`, same JSON value. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** `value` as indented JSON that is safe to show on a terminal (and still parses to the same value). */
export function jsonText(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

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
  /** Colour on stderr (warnings, errors, progress): decided by stderr's own TTY, so `2>log` stays plain. */
  private readonly errColor: boolean;
  private readonly quiet: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;

  constructor(opts: PrinterOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.err = opts.err ?? process.stderr;
    this.json = opts.json ?? false;
    this.quiet = opts.quiet ?? false;
    // As picocolors itself decides (for stdout only): a terminal, no NO_COLOR, and not TERM=dumb.
    const tty = (s: NodeJS.WritableStream) =>
      Boolean((s as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
    this.color = opts.color ?? tty(this.out);
    this.errColor = opts.color ?? tty(this.err);
  }

  /** A result line (or block) on stdout. Suppressed in --json mode: use data() there. */
  line(text = ''): void {
    if (!this.json) this.out.write(`${terminalSafeOutput(text, true)}\n`);
  }

  /** Raw text on stdout, whatever the mode (a template, a squid.conf): the output *is* the result. */
  raw(text: string): void {
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The machine-readable result; printed only with --json. */
  data(value: unknown): void {
    if (this.json) this.out.write(`${jsonText(value)}\n`);
  }

  /** As data(), on one line (a result that scripts collect line by line, e.g. `lab fault`). */
  dataLine(value: unknown): void {
    if (this.json) this.out.write(`${jsonText(value, 0)}\n`);
  }

  /** A table for people (stdout); in --json mode the caller prints data() instead. */
  table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    if (this.json) return;
    if (rows.length > Printer.BOXED_ROWS_MAX) return this.plainTable(head, rows);
    const t = new Table({ head: head.map((h) => this.bold(h)), style: { head: [], border: [] } });
    for (const r of rows) t.push(r.map(cell));
    this.out.write(`${t.toString()}\n`);
  }

  /**
   * Rows above which a table is printed as aligned columns without borders: the boxed renderer recurses
   * per row and overflows the stack near 100,000 rows, and nobody reads borders on that many lines.
   */
  static readonly BOXED_ROWS_MAX = 10_000;

  private plainTable(head: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    const safe = rows.map((r) => r.map(cell));
    const widths = head.map((h) => h.length);
    for (const r of safe) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
    const line = (cells: readonly string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    this.out.write(`${this.bold(line(head))}\n`);
    // Written in chunks: one string of a million rows would be needlessly large.
    for (let i = 0; i < rows.length; i += 5_000)
      this.out.write(
        `${safe
          .slice(i, i + 5_000)
          .map(line)
          .join('\n')}\n`,
      );
  }

  /** Progress for long work, on stderr so stdout stays clean for pipes. */
  step(text: string): void {
    if (!this.quiet) this.err.write(`${this.errPaint('›', pc.dim)} ${terminalSafeOutput(text, true)}\n`);
  }

  warn(text: string): void {
    this.err.write(`${this.errPaint('warning:', pc.yellow)} ${terminalSafeOutput(redactUrls(text), true)}\n`);
  }

  error(text: string): void {
    // Diagnostics echo what the user typed: a URL's password never reaches the terminal or a CI log.
    this.err.write(`${this.errPaint('error:', pc.red)} ${terminalSafeOutput(redactUrls(text), true)}\n`);
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
  private errPaint(text: string, f: (s: string) => string): string {
    return this.errColor ? f(text) : text;
  }
}

/** A table cell as written: controls escaped but for the printer's colours (cells may span lines). */
function cell(c: string | number): string {
  return terminalSafeOutput(String(c), true);
}
