import { describe, expect, it } from 'vitest';
import { plural, shown, terminalSafe, terminalSafeOutput } from '../../src/untrusted/text';

describe('terminalSafe', () => {
  it.each([
    ['clear screen (CSI 2J)', 'a\u001b[2Jb', 'a\\e[2Jb'],
    ['set the window title (OSC 0 … BEL)', '\u001b]0;pwned\u0007x', '\\e]0;pwned\\x07x'],
    ['an 8-bit CSI (C1)', '\u009b2J', '\\x9b2J'],
    ['a bidi override', 'abc\u202edef', 'abc\\u202edef'],
    ['carriage return (overwrites the line)', 'ok\rFAIL', 'ok\\rFAIL'],
    ['newline and tab', 'a\nb\tc', 'a\\nb\\tc'],
    ['NUL and DEL', 'a\u0000b\u007f', 'a\\x00b\\x7f'],
    ['plain text, Unicode included', 'registry.npmjs.org – 東京', 'registry.npmjs.org – 東京'],
  ])('escapes %s', (_title, input, shown) => {
    expect(terminalSafe(input)).toBe(shown);
  });
});

describe('terminalSafeOutput', () => {
  it.each([
    ['keeps colour (SGR)', '\u001b[31merror:\u001b[39m x', false, '\u001b[31merror:\u001b[39m x'],
    ['escapes other sequences next to colour', '\u001b[1mA\u001b[2J', false, '\u001b[1mA\\e[2J'],
    ['keeps newlines and tabs when multiline', 'a\n\tb', true, 'a\n\tb'],
    ['escapes them on one line', 'a\n\tb', false, 'a\\n\\tb'],
    ['escapes a carriage return even multiline', 'a\rb\nc', true, 'a\\rb\nc'],
    ['an ESC at the very end', 'x\u001b', true, 'x\\e'],
  ])('%s', (_title, input, multiline, shown) => {
    expect(terminalSafeOutput(input, multiline)).toBe(shown);
  });
});

describe('plural', () => {
  it.each([
    [0, 'host', '0 hosts'],
    [1, 'host', '1 host'],
    [2, 'host', '2 hosts'],
    [12_345, 'entry', '12,345 entries'],
  ])('%i %s', (n, word, text) => {
    expect(plural(n, word, word === 'entry' ? 'entries' : undefined)).toBe(text);
  });
});

describe('shown', () => {
  it.each([
    ['a short value as it is', 'registry.npmjs.org', 80, 'registry.npmjs.org'],
    ['a long value clipped with its length', 'x'.repeat(12_345), 10, 'xxxxxxxxxx… (12,345 characters)'],
    ['escapes first', 'a\u001b[2J', 80, 'a\\e[2J'],
  ])('%s', (_title, value, max, text) => {
    expect(shown(value, max)).toBe(text);
  });
});
