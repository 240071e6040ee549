import { describe, expect, it } from 'vitest';
import { readNumber } from '../../src/untrusted/number';

const GB = { min: 0, max: 1_000_000 } as const;
const WHOLE = { min: 1, max: 100, integer: true } as const;

describe('readNumber', () => {
  it.each([
    ['50', GB, 50],
    [' 0.5 ', GB, 0.5],
    ['1e3', GB, 1000],
    ['.25', GB, 0.25],
    ['-0', { min: -1, max: 1 }, 0],
    ['100', WHOLE, 100],
  ])('reads %j', (raw, bounds, value) => {
    expect(readNumber(raw, bounds)).toEqual({ ok: true, value });
  });

  it.each([
    ['1e308', GB, 'a number from 0 to 1,000,000'],
    ['Infinity', GB, 'a number from 0 to 1,000,000'],
    ['NaN', GB, 'a number from 0 to 1,000,000'],
    ['0x10', GB, 'a number from 0 to 1,000,000'],
    ['', GB, 'a number from 0 to 1,000,000'],
    ['9'.repeat(400), GB, 'a number from 0 to 1,000,000'],
    ['-1', GB, 'a number from 0 to 1,000,000'],
    ['2.5', WHOLE, 'a whole number from 1 to 100'],
    ['0', WHOLE, 'a whole number from 1 to 100'],
  ])('fails when given %j', (raw, bounds, expected) => {
    expect(readNumber(raw, bounds)).toEqual({ ok: false, expected });
  });
});
