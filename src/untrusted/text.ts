// Text from outside (log fields, proxy responses, file contents) on its way to a terminal: every control
// character is shown as an escape instead of being obeyed, so a log line cannot clear the screen, set the window
// title, move the cursor or reorder what is shown (bidirectional overrides). One sanitiser for every such value.

/** C0 controls, DEL, C1 controls, and the Unicode marks that reorder text (bidi embeddings, overrides, isolates). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** `value` with every control character escaped (`ESC` → `\e`, newline → `\n`, U+202E → `\u202e`): one line, inert. */
export function terminalSafe(value: string): string {
  return value.replace(UNSAFE, escape);
}

/**
 * `value` for a table people read: terminalSafe(), and at most `max` characters with the full length said
 * (`aaaa… (10,000,012 characters)`), so one absurd log field cannot turn a table into hundreds of megabytes.
 * Machine formats (CSV, JSON) keep the whole value.
 */
export function shown(value: string, max = 80): string {
  const safe = terminalSafe(value);
  return safe.length <= max ? safe : `${safe.slice(0, max)}… (${value.length.toLocaleString('en-US')} characters)`;
}

/** Colour and weight (SGR, `ESC [ … m`): what the printer itself paints with. */
const SGR = /\u001b\[[0-9;]*m/y;

/**
 * The printer's last line of defence for text it is handed whole: controls escaped as terminalSafe() does,
 * except the printer's own colour sequences and, when `multiline`, newlines and tabs. Values from outside are
 * escaped where they enter (terminalSafe), so their colour sequences never reach this point intact.
 */
export function terminalSafeOutput(text: string, multiline: boolean): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(UNSAFE)) {
    const i = m.index;
    if (i < last) continue;
    const c = m[0];
    SGR.lastIndex = i;
    const sgr = c === '\u001b' ? SGR.exec(text) : null;
    if (sgr) {
      out += text.slice(last, i) + sgr[0];
      last = i + sgr[0].length;
    } else if (multiline && (c === '\n' || c === '\t')) {
      continue;
    } else {
      out += text.slice(last, i) + escape(c);
      last = i + 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** `1 host`, `3 hosts`: a count with its noun (`plural(n, 'entry', 'entries')` for irregular ones). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
