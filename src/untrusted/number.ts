// Numbers from outside (flags a person typed, fields of a log line): decimal only, and within bounds the caller
// names, so `1e308` GB, a 400-digit byte count, `Infinity` or `NaN` are refused with a reason instead of turning
// into `$∞`, `NaN%` or `null` further on. One reader for every such number.

export interface NumberBounds {
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. @default false */
  readonly integer?: boolean;
}

/** The value, or what was expected instead (`a whole number from 1 to 100`) for the caller's message. */
export type NumberRead = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly expected: string };

/** Plain decimal notation, an optional fraction and exponent (`50`, `0.5`, `1e3`): no hex, no `Infinity`, no `NaN`. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** `1000000` → `1,000,000`, so bounds read at a glance. */
const show = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(n));

/** Reads `raw` as a number within `bounds`; `expected` says what would have been read (the caller adds where). */
export function readNumber(raw: string, bounds: NumberBounds): NumberRead {
  const s = raw.trim();
  const whole = bounds.integer === true;
  const expected = `${whole ? 'a whole number' : 'a number'} from ${show(bounds.min)} to ${show(bounds.max)}`;
  const value = Number(s);
  const fits = DECIMAL.test(s) && Number.isFinite(value) && value >= bounds.min && value <= bounds.max;
  if (!fits || (whole && !Number.isInteger(value))) return { ok: false, expected };
  // `-0` reads as 0 everywhere people look.
  return { ok: true, value: value === 0 ? 0 : value };
}

/** The largest count of bytes a log field may carry and still be summed exactly (8 PiB). */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;
