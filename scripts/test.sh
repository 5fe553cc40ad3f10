#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds the normal build
# (g++, build/) and the ASan+UBSan build (clang, build-asan/, which also holds the libFuzzer
# targets), and runs every suite in both. The VM tier runs once, in the normal build.
# Extra arguments go to both `meson test` runs (e.g. --suite syncobj).
# VM kernels: only when the vm suite will run, and only when tests/vm/kernel/select_kernel.py
# finds no usable one; $SYNCWAY_VM_PREBUILT names a directory of prebuilt kernels to use when
# they were built for our kernel fragment (CI points it at its copy; see tests/vm/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

scripts/setup.sh

# Does this run include the vm suite? Not when the arguments name other suites only, or
# exclude it.
vm_runs=1
any_suite=0
vm_named=0
prev=""
for arg in "$@"; do
  case "$prev:$arg" in
    --suite:vm | *:--suite=vm) any_suite=1; vm_named=1 ;;
    --suite:* | *:--suite=*) any_suite=1 ;;
    --no-suite:vm | *:--no-suite=vm) vm_runs=0 ;;
  esac
  prev=$arg
done
[ "$any_suite" = 1 ] && [ "$vm_named" = 0 ] && vm_runs=0
if [ "$vm_runs" = 1 ]; then
  for version in 6.1 6.12; do
    tests/vm/kernel/build-kernel.sh --version "$version" --if-needed
  done
fi

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
