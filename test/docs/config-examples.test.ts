// The config samples and the example errors in README.md and docs/config.md stay true: each doc's
// sample, broken the way its text says, must produce exactly the error block the doc shows.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'egresshub-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first fenced block of `lang` after `from` in a markdown file. */
function block(markdown: string, lang: string, from = 0): { text: string; end: number } {
  const start = markdown.indexOf(`\`\`\`${lang}\n`, from);
  if (start < 0) throw new Error(`no \`\`\`${lang} block`);
  const body = start + lang.length + 4;
  const end = markdown.indexOf('\n```', body);
  return { text: markdown.slice(body, end + 1), end };
}

const docs = [
  {
    doc: 'README.md',
    // The sample with tenants[0].port set to 80, as the text after it says.
    breakIt: (yaml: string) => yaml.replace('port: 3201', 'port: 80'),
  },
  {
    doc: 'docs/config.md',
    breakIt: (yaml: string) => yaml.replace('port: 3201', 'port: 80').replace("    allow: '*'", "    alow: '*'"),
  },
];

describe('config samples in the docs', () => {
  it.each(docs)('$doc: the sample is valid as shown', async ({ doc }) => {
    const yaml = block(readFileSync(doc, 'utf8'), 'yaml');
    const file = join(dir, 'egresshub.yaml');
    writeFileSync(file, yaml.text);
    const r = await runCli('validate', '--config', file);
    // Valid: no error (a warning, e.g. natGateways: one under a multi-proxy fleet, is not one).
    expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('warning: '))).toEqual([]);
    expect(r.code).toBe(0);
  });

  it.each(docs)('$doc: the example error is what the broken sample really gives', async ({ doc, breakIt }) => {
    const md = readFileSync(doc, 'utf8');
    const yaml = block(md, 'yaml');
    const shown = block(md.slice(yaml.end), '', md.slice(yaml.end).indexOf('\n```\nerror: ')).text;
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      writeFileSync('egresshub.yaml', breakIt(yaml.text));
      const r = await runCli('validate', '--config', 'egresshub.yaml');
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(shown);
    } finally {
      process.chdir(cwd);
    }
  });
});
