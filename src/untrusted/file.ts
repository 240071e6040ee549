// Files named on the command line are read as UTF-8 text. What else users hand over — a UTF-16 file that a
// Windows editor saved as "Unicode", a binary — is named for what it is, with the fix, in one wording everywhere.

/** What is wrong with reading `head` (a file's first bytes) as UTF-8 text, as a phrase; undefined when nothing is. */
export function notUtf8Text(head: Uint8Array, file: string): string | undefined {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
    return `it is UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 ${file} > ${file}.utf8)`;
  // A NUL byte in the first 8 KiB: what `grep` and `git` call binary. Text never holds one.
  if (head.subarray(0, 8192).includes(0)) return 'it is a binary file, not text';
  return undefined;
}
