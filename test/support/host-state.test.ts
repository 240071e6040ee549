// The host guard's record and comparison (host-state.ts) on a directory of its own: what it reports as left
// behind, removed or changed, and what it must not report (a file rewritten with the same bytes, an empty
// directory's time stamps).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostChanges, hostState } from './host-state';

let root: string;
const record = () => hostState({ paths: [root], sysctls: [], system: false });

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('hostState / hostChanges', () => {
  it.each([
    [
      'a file left behind',
      () => writeFileSync(join(root, 'squid', 'egresshub-peek.pem'), 'cert'),
      /^\+ path .*\/squid\/egresshub-peek\.pem \(file 644 /,
    ],
    ['a directory left behind', () => mkdirSync(join(root, 'netns', 'eh-hub')), /^\+ path .*\/netns\/eh-hub \(directory /],
    ['a file removed', () => rmSync(join(root, 'squid', 'squid.conf')), /^- path .*\/squid\/squid\.conf \(was: file /],
    [
      'a file rewritten',
      () => writeFileSync(join(root, 'squid', 'squid.conf'), 'http_port 3129\n'),
      /^~ path .*\/squid\/squid\.conf: file 644 \d+:\d+ 15 bytes \w+ → file 644 \d+:\d+ 15 bytes \w+$/,
    ],
    [
      'a mode changed',
      () => chmodSync(join(root, 'squid', 'squid.conf'), 0o600),
      /^~ path .*\/squid\/squid\.conf: file 644 .* → file 600 /,
    ],
  ])('names %s', (_name, change, line) => {
    root = mkdtempSync(join(tmpdir(), 'eh-host-'));
    mkdirSync(join(root, 'squid'));
    mkdirSync(join(root, 'netns'));
    writeFileSync(join(root, 'squid', 'squid.conf'), 'http_port 3128\n');
    chmodSync(join(root, 'squid', 'squid.conf'), 0o644);
    const before = record();
    change();
    const changes = hostChanges(before, record());
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatch(line);
  });

  it('reports nothing when a file is rewritten with the same bytes or a directory only changed its times', () => {
    root = mkdtempSync(join(tmpdir(), 'eh-host-'));
    mkdirSync(join(root, 'run'));
    writeFileSync(join(root, 'squid.conf'), 'http_port 3128\n');
    const before = record();
    writeFileSync(join(root, 'squid.conf'), 'http_port 3128\n');
    writeFileSync(join(root, 'run', 'tmp'), 'x');
    rmSync(join(root, 'run', 'tmp'));
    utimesSync(join(root, 'run'), new Date(0), new Date(0));
    expect(hostChanges(before, record())).toEqual([]);
  });

  it('records a path that does not exist as absent, so creating it is reported', () => {
    root = mkdtempSync(join(tmpdir(), 'eh-host-'));
    const missing = join(root, 'egresshub-lab');
    const before = hostState({ paths: [missing], sysctls: [], system: false });
    mkdirSync(missing);
    expect(hostChanges(before, hostState({ paths: [missing], sysctls: [], system: false }))).toEqual([
      expect.stringMatching(/^\+ path .*\/egresshub-lab \(directory 755 /),
    ]);
  });
});
