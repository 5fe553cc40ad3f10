#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds the normal build
# (g++, build/) and the ASan+UBSan build (clang, build-asan/, which also holds the libFuzzer
# targets), and runs every suite in both. The VM tier runs once, in the normal build.
# Extra arguments go to both `meson test` runs (e.g. --suite syncobj).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

scripts/setup.sh

if [ ! -f build-asan/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-asan --buildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C build-asan

status=0
echo "== meson test (build/) =="
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=1
echo "== meson test (build-asan/, ASan+UBSan) =="
meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite vm "$@" || status=1
exit $status
