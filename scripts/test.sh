#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds the normal build
# (g++, build/) and the ASan+UBSan build (clang, build-asan/, which also holds the libFuzzer
# targets), and runs every suite in both. The VM tier runs once, in the normal build. The ASan
# build compiles, and (in a full run) the package suite runs, beside build/'s suites at idle
# CPU priority; the last line gives each phase's wall time.
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

# The ASan build holds what its suites run: no benchmarks (never run) and no VM tier (runs once,
# in the normal build; its tooling test stays registered). It is a unity build (meson joins each
# target's sources four at a time): 300 instead of 530 CPU-seconds, as most of a file's compile
# is its headers. So two files of one target cannot both have an internal helper of the same
# name; build/ compiles each file alone and catches a missing include.
if [ ! -f build-asan/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-asan --buildtype=debug -Dunity=on \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false -Dvm_tests=disabled
fi

# Work nothing waits on runs beside build/'s suites, on the CPU they leave idle (qemu guests
# waiting on their clocks, frame-paced clients, one-at-a-time tests), at idle priority in a
# session of its own (scripts/idle-priority.sh): those suites keep their speed, and their timing
# checks see the machine they would see alone. That work is the ASan build's compile and, in a
# full run, the package suite (a compile of its own, from a clean copy of the source; its own
# `meson test`, as meson would not start a one-at-a-time test beside it).
phase_start=$SECONDS
background=()
stop_background() {
  for pid in "${background[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
}
trap stop_background EXIT
asan_log=build-asan/meson-logs/test-sh-ninja.log
setsid scripts/idle-priority.sh ninja -C build-asan > "$asan_log" 2>&1 &
asan_build=$!
background+=("$asan_build")
package_args=()
if [ $# = 0 ]; then
  package_log=build/meson-logs/test-sh-package.txt
  setsid scripts/idle-priority.sh meson test -C build --no-rebuild --print-errorlogs \
    --logbase testlog-package --suite package > "$package_log" 2>&1 &
  package_run=$!
  background+=("$package_run")
  package_args=(--no-suite package)
fi

status=0
echo "== meson test (build/) =="
meson test -C build --print-errorlogs --num-processes 2 "${package_args[@]}" "$@" || status=1
build_tests_seconds=$((SECONDS - phase_start))

asan_wait_start=$SECONDS
if ! wait "$asan_build"; then
  tail -n 60 "$asan_log"
  echo "test.sh: the ASan build failed (full log: $asan_log)"
  exit 1
fi
asan_wait_seconds=$((SECONDS - asan_wait_start))

asan_tests_start=$SECONDS
echo "== meson test (build-asan/, ASan+UBSan) =="
meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite vm "$@" || status=1
asan_tests_seconds=$((SECONDS - asan_tests_start))

if [ $# = 0 ]; then
  echo "== meson test (build/, suite package, beside the others) =="
  wait "$package_run" || status=1
  cat "$package_log"
fi
trap - EXIT
echo "test.sh: wall seconds: setup and build/ ${phase_start}, build/ suites ${build_tests_seconds}" \
  "(the ASan compile and the package suite beside them), rest of the ASan compile" \
  "${asan_wait_seconds}, build-asan/ suites ${asan_tests_seconds}, total ${SECONDS}"
exit $status
