#!/usr/bin/env node
// The egresshub command of the egresshub-cli package. Installed, it runs the launcher the build put in dist/
// (the compiled CLI, no TypeScript at run time). In a clone of the repository, where npm links this package
// as a workspace (node_modules/.bin/egresshub, so `npx egresshub` works there), it hands over to the
// repository's own bin/egresshub.js, which runs the TypeScript sources.
const { existsSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');

const pkg = dirname(__dirname);
const repo = dirname(dirname(pkg));
const inClone =
  basename(pkg) === 'cli' &&
  basename(dirname(pkg)) === 'packages' &&
  existsSync(join(repo, 'bin', 'egresshub.js')) &&
  existsSync(join(repo, 'tsconfig.json'));
require(inClone ? join(repo, 'bin', 'egresshub.js') : join(pkg, 'dist', 'launch.js'));
