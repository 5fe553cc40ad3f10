#!/usr/bin/env bash
# `meson install` is complete and the installed files work on their own: installs the build
# into a DESTDIR, checks every file a user or packager relies on is there, then runs the
# installed syncway with the installed example client, finding the installed library, with the
# build tree made unreadable to them (nothing may be loaded from it).
#   install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
dest=$(mktemp -d /tmp/syncway-install-test.XXXXXX)
cleanup() { chmod -R u+rwx "$dest" 2>/dev/null; rm -rf "$dest"; }
trap cleanup EXIT
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null \
  || fail "meson install into $dest failed"

prefix=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
libdir=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"))')
root=$dest$prefix
lib=$root/$libdir

expect=(
  bin/syncway bin/syncway-check bin/syncobjd bin/syncway-heaps bin/explicit-sync-shm
  include/syncobj/syncobj.h
  "$libdir/libsyncway-syncobj.so" "$libdir/libsyncway-syncobj.so.0"
  "$libdir/pkgconfig/syncway-syncobj.pc"
  lib/systemd/user/syncobjd.service lib/systemd/user/syncobjd.socket
  "$libdir/syncway/libVkLayer_syncway_explicit_sync.so"
  share/vulkan/implicit_layer.d/VkLayer_syncway_explicit_sync.json
)
# Every example the build has (the GL ones need EGL/GLES, the GPU one GBM too), each with --help.
examples=(explicit-sync-shm explicit-sync-tiles explicit-sync-cursor)
for e in explicit-sync-gles explicit-sync-gbm; do
  [ -e "$build/examples/$e" ] && examples+=("$e")
done
for e in "${examples[@]}"; do expect+=("bin/$e"); done
if command -v scdoc >/dev/null; then
  expect+=(share/man/man1/syncway.1 share/man/man1/syncway-check.1 share/man/man1/syncobjd.1 share/man/man1/syncway-heaps.1
           share/man/man3/syncobj.3)
  for e in "${examples[@]}"; do expect+=("share/man/man1/$e.1"); done
fi
for f in "${expect[@]}"; do
  [ -e "$root/$f" ] || fail "$prefix/$f was not installed"
done
echo "install-test: ${#expect[@]} expected files installed under $prefix"
for e in "${examples[@]}"; do
  LD_LIBRARY_PATH=$lib "$root/bin/$e" --help | grep -q "^usage: $e" || fail "the installed $e --help does not print its usage"
done

# The library's ABI is the C API only.
extra=$(nm -D --defined-only "$lib/libsyncway-syncobj.so.0" | awk '$2 != "A" && $3 !~ /^syncobj_/ {print $3}')
[ -z "$extra" ] || fail "libsyncway-syncobj.so.0 exports more than syncobj_*: $(echo $extra | head -c 300)"

# The Vulkan layer's manifest names the installed library (the loader dlopens that path).
grep -q "\"library_path\": \"$prefix/$libdir/syncway/libVkLayer_syncway_explicit_sync.so\"" \
  "$root/share/vulkan/implicit_layer.d/VkLayer_syncway_explicit_sync.json" \
  || fail "the layer manifest does not name $prefix/$libdir/syncway/libVkLayer_syncway_explicit_sync.so"

# The systemd unit runs the installed daemon.
grep -q "ExecStart=$prefix/bin/syncobjd" "$root/lib/systemd/user/syncobjd.service" \
  || fail "syncobjd.service does not start $prefix/bin/syncobjd"

# pkg-config finds the header and the library where they were installed.
cflags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$lib/pkgconfig pkg-config --cflags --libs syncway-syncobj)
case "$cflags" in *"-lsyncway-syncobj"*) ;; *) fail "pkg-config --libs lacks -lsyncway-syncobj: $cflags" ;; esac

# No installed binary carries a run path into the build tree.
for f in "$root"/bin/* "$lib"/libsyncway-syncobj.so.0; do
  if readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -q "$build"; then
    fail "$f has a run path into the build tree: $(readelf -d "$f" | grep -E 'R(UN)?PATH')"
  fi
done

# Run the installed compositor with the installed example, the build tree hidden: a copy of it
# in /tmp is what the installed files see, and the build tree's own path is made unreadable by
# running from a private mount namespace where it is covered by an empty tmpfs.
cmd=("$root/bin/syncway" --backend headless -- "$root/bin/explicit-sync-shm" --frames 20)
if unshare --mount --propagation private true 2>/dev/null; then
  out=$(LD_LIBRARY_PATH=$lib unshare --mount --propagation private sh -c '
    mount -t tmpfs none "$1" && shift && exec "$@"' sh "$build" "${cmd[@]}" 2>&1) \
    || fail "installed syncway with the installed example failed: $out"
else
  out=$(LD_LIBRARY_PATH=$lib "${cmd[@]}" 2>&1) || fail "installed syncway with the installed example failed: $out"
fi
echo "$out" | grep -q "20 frames committed with explicit sync" \
  || fail "the installed example did not report its frames: $out"
# The library the example loads is the installed one.
resolved=$(LD_LIBRARY_PATH=$lib ldd "$root/bin/explicit-sync-shm" | awk '/libsyncway-syncobj/ {print $3}')
[ "$resolved" = "$lib/libsyncway-syncobj.so.0" ] || fail "the example resolves libsyncway-syncobj to '$resolved'"
echo "install-test: installed syncway ran the installed example (20 frames, library $resolved)"
echo "1 passed, 0 failed"
