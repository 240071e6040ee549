#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the package works straight from a clone (no build step).
require('tsx/cjs');
// `egresshub squid-conf | head` must end quietly when the reader goes away.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
require('../src/cli/main.ts')
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
