// The README's "Use as a construct library" app, as the tests run it: from src/ in a clone, or against the
// installed package. One copy of the example, so the README cannot drift from what is tested.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { firstSynthContext, planEgress } from '../../src';
import { TWO_TENANTS } from '../fixtures/two-tenants';

export const ROOT = resolve(__dirname, '..', '..');

/** The TypeScript block of README's "Use as a construct library", `from 'egresshub'` replaced by `module`. */
export function readmeApp(module = 'egresshub'): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Use as a construct library')[1]?.split('\n## ')[0] ?? '';
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README.md has no ```ts block under "Use as a construct library"');
  return code.replace("from 'egresshub'", `from ${JSON.stringify(module)}`);
}

/**
 * What `cdk synth` records for the example's account and region with credentials: its AZs and the proxy
 * image (offline, the placeholder egresshub synth uses too). The CDK CLI hands context to an app this way.
 */
const EXAMPLE_PLAN = planEgress(TWO_TENANTS);
export const RECORDED_CONTEXT = firstSynthContext(EXAMPLE_PLAN);

/** The warnings and errors an app's synth recorded (`<stack>.metadata.json`), as `stack: id or message`. */
export function synthMessages(outdir: string): string[] {
  return readdirSync(outdir)
    .filter((f) => f.endsWith('.metadata.json'))
    .flatMap((f) => {
      const meta = JSON.parse(readFileSync(join(outdir, f), 'utf8')) as Record<string, { type: string; data: unknown }[]>;
      return Object.values(meta)
        .flat()
        .filter((e) => e.type === 'aws:cdk:warning' || e.type === 'aws:cdk:error')
        .map((e) => `${f.replace(/\.metadata\.json$/, '')}: ${String(e.data)}`);
    });
}

/** Runs an app (argv) as the CDK CLI does: context and output directory in the environment. Returns the templates by stack name. */
export function runCdkApp(
  argv: string[],
  cwd: string,
  outdir: string,
  context: Record<string, unknown>,
  env: Record<string, string> = {},
): Map<string, unknown> {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...context, ...RECORDED_CONTEXT }) },
  });
  // The child's stack lines would read as this error's own stack (and its files as source maps): indent them apart.
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stderr.replace(/^\s+at /gm, '  | at ')}`);
  const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
  return new Map(
    templates.map((f) => {
      const t = JSON.parse(readFileSync(join(outdir, f), 'utf8')) as { Description?: string };
      return [f.replace(/\.template\.json$/, ''), t];
    }),
  );
}
