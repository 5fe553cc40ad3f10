#!/usr/bin/env bash
# Builds the Debian packages (debian/) from a clean copy of the source, checks them with
# lintian (no errors allowed), checks their dependencies resolve on this system, installs them
# into an empty root and runs the installed syncway with the installed example client there.
#   build_and_smoke.sh SOURCE_DIR [OUT_DIR]   (OUT_DIR keeps the .debs; default: a temp dir)
set -euo pipefail
source_dir=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/syncway-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

version=$(dpkg-parsechangelog -l "$source_dir/debian/changelog" -S Version)
tree=$work/syncway-$version
mkdir -p "$tree"
# A clean copy: the files the repository tracks, never a build directory.
if git -C "$source_dir" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$source_dir" ls-files -z --cached --others --exclude-standard \
    | (cd "$source_dir" && xargs -0 cp --parents -t "$tree" 2>/dev/null || true)
else
  (cd "$source_dir" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$tree"
fi

start=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" dpkg-buildpackage -us -uc -b) \
  > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "dpkg-buildpackage failed"; }
echo "package-test: dpkg-buildpackage -us -uc -b took $(( $(date +%s) - start )) s"
mapfile -t debs < <(ls "$work"/*.deb)
[ ${#debs[@]} -ge 4 ] || fail "expected at least 4 packages, got: ${debs[*]##*/}"
for d in "${debs[@]}"; do echo "package-test: built ${d##*/}"; done

lintian_out=$(lintian --tag-display-limit 0 "$work"/*.changes 2>&1) || true
echo "$lintian_out" | sed 's/^/lintian: /'
if echo "$lintian_out" | grep -q '^E: '; then fail "lintian reports errors"; fi
# Every installed program has its man page.
if echo "$lintian_out" | grep -q 'no-manual-page'; then fail "lintian: a program without a man page"; fi

# Every dependency can be satisfied here (simulated, nothing installed).
apt-get install --simulate --no-download -q "${debs[@]}" > "$work/apt.log" 2>&1 \
  || { cat "$work/apt.log" >&2; fail "the packages' dependencies do not resolve"; }

root=$work/root
mkdir -p "$root"
for d in "${debs[@]}"; do dpkg-deb -x "$d" "$root"; done
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
out=$(LD_LIBRARY_PATH=$root/usr/lib/$arch "$root/usr/bin/syncway" --backend headless -- \
        "$root/usr/bin/explicit-sync-shm" --frames 10 2>&1) \
  || fail "the packaged syncway with the packaged example failed: $out"
echo "$out" | grep -q "10 frames committed with explicit sync" || fail "no frames reported: $out"
lib=$(LD_LIBRARY_PATH=$root/usr/lib/$arch ldd "$root/usr/bin/explicit-sync-shm" | awk '/libsyncway-syncobj/ {print $3}')
[ "$lib" = "$root/usr/lib/$arch/libsyncway-syncobj.so.0" ] || fail "example loads '$lib', not the packaged library"
for page in man1/syncway.1 man1/syncobjd.1 man1/syncway-heaps.1 man3/syncobj.3 \
    man1/explicit-sync-{shm,tiles,gles,cursor,gbm}.1; do
  [ -f "$root/usr/share/man/$page.gz" ] || fail "usr/share/man/$page.gz is not in any package"
done
if [ $# -ge 2 ]; then mkdir -p "$2" && cp "${debs[@]}" "$2"/; fi
echo "package-test: the packaged syncway ran the packaged example (10 frames)"
echo "1 passed, 0 failed"
