#!/usr/bin/env node
// The egresshub CLI. An installed package runs the compiled JavaScript in dist/ (no TypeScript at run
// time); a clone runs the TypeScript through tsx so that no build step is needed.
// EGRESSHUB_DIST=1 makes a clone run its dist/ (after `npm run build`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

// The package ships src/*.ts too (source maps and go-to-definition point there), so a clone is told by its
// tsconfig.json, which the package does not ship.
const root = join(__dirname, '..');
const fromSource =
  process.env.EGRESSHUB_DIST !== '1' && existsSync(join(root, 'src', 'cli', 'main.ts')) && existsSync(join(root, 'tsconfig.json'));
if (fromSource) require('tsx/cjs');
// `egresshub squid-conf | head` must end quietly when the reader goes away; any other failure to write the
// output (a full disk, a closed descriptor) is one line on stderr and exit 1, not a stack trace.
const WRITE_FAILURES = {
  ENOSPC: 'no space left on the device',
  EBADF: 'stdout is closed',
  EIO: 'an I/O error',
  EDQUOT: 'the disk quota is exceeded',
};
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`error: cannot write the output to stdout: ${WRITE_FAILURES[e.code] || e.code || e.message}\n`);
  process.exit(1);
});
require(fromSource ? '../src/cli/main.ts' : '../dist/cli/main.js')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 1;
    },
  );
