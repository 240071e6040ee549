// The printer: colour per stream (stdout's TTY for results, stderr's for diagnostics), and no text it writes can
// drive the terminal, whichever method wrote it.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonText, Printer } from '../../src/cli/printer';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function printer(outTTY: boolean, errTTY: boolean, env: Record<string, string | undefined> = { NO_COLOR: undefined, TERM: 'xterm' }) {
  const out = new Capture(outTTY);
  const err = new Capture(errTTY);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(env);
  try {
    return { p: new Printer({ out, err }), out, err };
  } finally {
    set(saved);
  }
}

const ESC = '\u001b';

describe('Printer', () => {
  it.each([
    ['stdout piped, stderr a terminal', false, true],
    ['stdout a terminal, stderr redirected', true, false],
  ])('colours errors by stderr and results by stdout: %s', (_title, outTTY, errTTY) => {
    const { p, out, err } = printer(outTTY, errTTY);
    p.error('boom');
    p.line(p.ok('fine'));
    expect(err.text.includes(ESC)).toBe(errTTY);
    expect(out.text.includes(ESC)).toBe(outTTY);
  });

  it.each([
    ['NO_COLOR is set', { NO_COLOR: '1', TERM: 'xterm' }],
    ['TERM is dumb', { NO_COLOR: undefined, TERM: 'dumb' }],
  ])('paints nothing on terminals when %s', (_title, env) => {
    const { p, out, err } = printer(true, true, env);
    p.error('boom');
    p.line(p.ok('fine'));
    expect(out.text + err.text).not.toContain(ESC);
  });

  it.each([
    ['line', (p: Printer) => p.line(`x${ESC}[2J`)],
    ['table', (p: Printer) => p.table(['h'], [[`x${ESC}]0;title\u0007`]])],
    [
      'long table',
      (p: Printer) =>
        p.table(
          ['h'],
          Array.from({ length: Printer.BOXED_ROWS_MAX + 1 }, () => [`x${ESC}[2J`]),
        ),
    ],
    ['warn', (p: Printer) => p.warn(`x${ESC}[2J`)],
    ['error', (p: Printer) => p.error(`x\u009b2J`)],
    ['step', (p: Printer) => p.step(`x\r${ESC}[K`)],
  ])('escapes control sequences written through %s', (_title, write) => {
    const { p, out, err } = printer(false, false);
    write(p);
    const all = out.text + err.text;
    expect(all).not.toMatch(/[\u001b\u0007\u009b\r]/);
    expect(all).toMatch(/\\e|\\x9b/);
  });

  it('writes JSON whose C1 and bidi characters are escapes, with the same value', () => {
    const value = { host: 'a\u202eb\u009bc\u001bd' };
    const text = jsonText(value);
    expect(text).not.toMatch(/[\u001b\u009b\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('dataLine: the same JSON on one line, escapes included, and only with --json', () => {
    const value = { fault: 'x', host: 'a\u202eb', nested: { n: 1 } };
    const [on, off] = [new Capture(false), new Capture(false)];
    new Printer({ out: on, err: new Capture(false), json: true }).dataLine(value);
    new Printer({ out: off, err: new Capture(false), json: false }).dataLine(value);
    expect(on.text.split('\n')).toHaveLength(2);
    expect(on.text).not.toMatch(/\u202e/);
    expect(JSON.parse(on.text)).toEqual(value);
    expect(off.text).toBe('');
  });

  it.each([
    ['error', (p: Printer) => p.error('cannot reach http://alice:s3cret@proxy.corp:8080/')],
    ['warn', (p: Printer) => p.warn('HTTPS_PROXY=http://alice:s3cret@proxy.corp:8080 ignored')],
  ])('redacts URL passwords in %s', (_title, write) => {
    const { p, err } = printer(false, false);
    write(p);
    expect(err.text).toContain('http://alice:***@proxy.corp:8080');
    expect(err.text).not.toContain('s3cret');
  });
});
