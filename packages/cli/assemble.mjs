// Fills this package (egresshub-cli) from the build in ../../dist: scripts/build.sh runs it after tsc.
// The library (the egresshub package) ships every module its entry dist/index.js reaches; this package ships
// the rest (the CLI, diff, lab, doctor, usage, cidr, cost chart, ...), compiled, with their maps and sources,
// and in place of each library module a one-line module that loads the library's own copy from the egresshub
// package this one depends on. So a CLI module's `require('../config/load')` gets the library's module itself
// (one ConfigError class, one plan builder), and the CLI's dependencies stay out of a CDK app that installs only
// the library.
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));

/** Every file under `dir`, as paths relative to it. */
function walk(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))],
  );
}

/** The literal module names a compiled file loads (require, require.resolve, import()). */
export function requests(file) {
  return [...readFileSync(file, 'utf8').matchAll(/(?:require|import)(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

function resolveRelative(from, request) {
  const base = resolve(dirname(from), request);
  for (const c of [base, `${base}.js`, join(base, 'index.js')]) if (existsSync(c) && statSync(c).isFile()) return c;
  throw new Error(`egresshub-cli: ${relative(root, from)} loads ${request}, which the build has not produced`);
}

/** The files of `dist` that its library entry (index.js) reaches, relative to `dist`. */
export function libraryModules(distDir) {
  const seen = new Set();
  const todo = [join(distDir, 'index.js')];
  while (todo.length > 0) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const r of requests(file)) if (r.startsWith('.')) todo.push(resolveRelative(file, r));
  }
  return new Set([...seen].map((f) => relative(distDir, f)));
}

function main() {
  const library = libraryModules(dist);
  const libraryDirs = new Set([...library].map((f) => dirname(f)));
  for (const d of ['dist', 'src', 'examples']) rmSync(join(here, d), { recursive: true, force: true });
  let stubs = 0;
  let copies = 0;
  for (const f of walk(dist)) {
    const to = join(here, 'dist', f);
    if (f.endsWith('.d.ts') || f.endsWith('.d.ts.map')) continue; // a command line, not a library: no types
    if (library.has(f)) {
      if (!f.endsWith('.js')) continue; // JSON the library module reads itself
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(
        to,
        `"use strict";\n// The egresshub library's own module (${f}), from the egresshub package this CLI depends on.\n` +
          `module.exports = require(require("node:path").join(require("node:path").dirname(require.resolve("egresshub/package.json")), "dist", ${JSON.stringify(f)}));\n`,
      );
      stubs++;
      continue;
    }
    if (f.endsWith('.js.map')) {
      if (library.has(f.slice(0, -'.map'.length))) continue;
    } else if (!f.endsWith('.js')) {
      // A data file beside a library module is the library's to read; the CLI's own (lab nft rules, scripts) come here.
      if ([...libraryDirs].some((d) => f.startsWith(`${d}/`) && d !== '.')) continue;
    }
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(dist, f), to);
    copies++;
    if (f.endsWith('.js')) {
      // The source the map points at (dist/x/y.js.map names ../../src/x/y.ts).
      const src = join(root, 'src', f.replace(/\.js$/, '.ts'));
      if (existsSync(src)) {
        mkdirSync(dirname(join(here, 'src', f)), { recursive: true });
        copyFileSync(src, join(here, 'src', f.replace(/\.js$/, '.ts')));
      }
    }
  }
  // The launcher: the repository's own bin/egresshub.js, which runs ../dist/cli/main.js from here.
  copyFileSync(join(root, 'bin', 'egresshub.js'), join(here, 'dist', 'launch.js'));
  // `egresshub lab` reads the example config from the package root.
  cpSync(join(root, 'examples'), join(here, 'examples'), { recursive: true });
  process.stderr.write(`egresshub-cli: ${copies} files of its own, ${stubs} library modules loaded from egresshub\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
