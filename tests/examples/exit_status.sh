#!/bin/bash
# Every example: --help exits 0 and lists the shared options; a bad option, no compositor, a
# compositor without linux-drm-syncobj-v1 and no timeline backend each exit 2 with a message
# naming what is missing; the GBM example without a render node exits 2 saying so.
#
#   exit_status.sh SYNCWAY EXAMPLE...
set -u
syncway=$1
shift
failures=0 checks=0
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

# expect STATUS PATTERN DESCRIPTION -- COMMAND...: COMMAND exits STATUS and its output matches
# the extended regular expression PATTERN.
expect() {
  local want=$1 pattern=$2 what=$3
  shift 4
  local out rc
  out=$(timeout -k 5 60 "$@" 2>&1)
  rc=$?
  checks=$((checks + 1))
  if [ $rc != "$want" ]; then
    fail "$what: exit $rc, want $want; output: $(echo "$out" | tail -n 5)"
  elif ! echo "$out" | grep -Eq "$pattern"; then
    fail "$what: exit $rc as wanted, but the output lacks /$pattern/: $(echo "$out" | tail -n 5)"
  else
    echo "ok: $what: exit $rc, $(echo "$out" | grep -Em1 "$pattern")"
  fi
}

for example in "$@"; do
  name=$(basename "$example")
  expect 0 '^usage: '"$name" "$name --help" -- "$example" --help
  help=$("$example" --help)
  for option in --frames --json --help; do
    echo "$help" | grep -q -- "$option" || fail "$name --help does not mention $option"
  done
  expect 2 "unknown option '--no-such-option'" "$name with an unknown option" -- "$example" --no-such-option
  expect 2 "frames wants a whole number" "$name --frames 0" -- "$example" --frames 0
  if [ "$name" = explicit-sync-gbm ] && ! ls /dev/dri/renderD* > /dev/null 2>&1; then
    # It looks for its device before anything else.
    expect 2 "no DRM render node" "$name without a render node" -- "$example" --frames 1
    continue
  fi
  expect 2 "cannot connect to a Wayland compositor" "$name without a compositor" -- \
    env WAYLAND_DISPLAY=syncway-no-such-display "$example" --frames 1
  # syncway exits with its command's status.
  expect 2 "does not offer wp_linux_drm_syncobj_manager_v1" "$name in syncway --syncobj off" -- \
    "$syncway" --backend headless --syncobj off -- "$example" --frames 1
  expect 2 "no timeline backend" "$name with its timeline backend forced to a missing /dev/syncobj" -- \
    "$syncway" --backend headless -- env SYNCWAY_SYNCOBJ_BACKEND=syncobj-dev "$example" --frames 1
done
echo "$checks checks, $failures failed"
[ $failures = 0 ] && echo "1 passed"
exit $((failures > 0))
