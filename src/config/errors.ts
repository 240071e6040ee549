// Errors a user can fix: bad input (exit code 2), always with where, what was received and how to fix.

/** One thing wrong in a config: where (field path, line, column), what, and the value found. */
export interface ConfigProblem {
  /** Field path as written in the docs, e.g. `tenants[1].port`. */
  readonly path: string;
  /** 1-based line and column in the config file, when the field exists there. */
  readonly line?: number;
  readonly column?: number;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** The value found at the path, rendered short. */
  readonly received?: string;
}

/** Any error caused by the user's input; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The config file failed validation; carries every problem found, not just the first. */
export class ConfigError extends UsageError {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(ConfigError.format(file, problems));
    this.name = 'ConfigError';
  }

  /** Problems listed in the message; the rest are counted (all stay in `problems`). */
  static readonly SHOWN_PROBLEMS = 20;

  static format(file: string, problems: readonly ConfigProblem[]): string {
    const lines = problems.slice(0, ConfigError.SHOWN_PROBLEMS).map((p) => {
      const where = p.line ? `${file}:${p.line}:${p.column ?? 1}` : file;
      const got = p.received !== undefined ? ` (got ${p.received})` : '';
      return `${where}: ${p.path || '(top level)'}: ${p.message}${got}`;
    });
    const head = problems.length === 1 ? 'invalid config' : `invalid config: ${problems.length} problems`;
    const more = problems.length - lines.length;
    // 50,000 bad allow entries made 9 MB of messages: the first ones show the kinds, the count shows the size.
    if (more > 0)
      lines.push(`… and ${more.toLocaleString('en-US')} more (the first ${lines.length} are listed; fix those and validate again)`);
    return `${head}\n${lines.map((l) => `  ${l}`).join('\n')}`;
  }
}

/** Renders a path array as `tenants[1].port`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}
