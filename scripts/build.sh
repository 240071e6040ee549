#!/usr/bin/env bash
# Compiles src/ to JavaScript + .d.ts in dist/ (or OUT_DIR) and copies the files the code reads at run
# time (shell scripts, JSON data) beside it, so the installed CLI runs without tsx.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${OUT_DIR:-dist}")"
rm -rf "$out"
npx tsc -p tsconfig.build.json --outDir "$out"
(cd src && find . -type f ! -name '*.ts' -print0 | xargs -0 -r cp --parents -t "$out")

# The CLI package (packages/cli, egresshub-cli): its own modules from this build, the library's loaded from
# the egresshub package (packages/cli/assemble.mjs says how).
if [ -z "${OUT_DIR:-}" ]; then node packages/cli/assemble.mjs "$out"; fi
echo "egresshub: built $out" >&2
