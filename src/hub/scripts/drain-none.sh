# shellcheck shell=bash
# drain/undrain for a single proxy (fleet mode single): there is nowhere else to send new connections, so the
# policy is applied in place (Squid refuses new connections for about a second while it reopens its listeners).
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
drain() {
  say "no drain (single proxy): reconfiguring in place"
}
undrain() {
  :
}
