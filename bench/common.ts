// Shared by the benchmarks: the machine description every report starts with, medians, and a
// Markdown table printer, so bench output can be pasted into docs/benchmarks.md as it is.
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';

export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly squid: string;
  readonly loadavg: string;
  /** When the benchmark started. */
  readonly date: string;
}

export function machine(): Machine {
  const squid = spawnSync('squid', ['-v'], { encoding: 'utf8', timeout: 5_000 }).stdout?.split('\n')[0]?.trim();
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    squid: squid || 'not installed',
    date: new Date().toISOString(),
    // The machine is shared with other engineers: the load at start says how quiet it was.
    loadavg: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function machineLines(m: Machine, command: string): string[] {
  return [
    `- command: \`${command}\``,
    `- started: ${m.date}`,
    `- machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free), kernel ${m.kernel}, Node ${m.node}, ${m.squid}`,
    `- load average at start: ${m.loadavg} (the machine is shared with other engineers' work)`,
  ];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of a sample. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** `--name N` from the command line: a whole number from 1 to `max`, else `fallback` (a bench's options are bounded). */
export function arg(name: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`--${name} takes a whole number from 1 to ${max}`);
  return v;
}
