#!/usr/bin/env bash
# Builds a VM tier kernel once per machine: Debian's linux-source-<version> with defconfig,
# kvm_guest.config and our fragment (syncway-vm.config beside this script), into
# ~/.cache/syncway/vm-kernel/bzImage (6.1) or ~/.cache/syncway/vm-kernel-<version>/bzImage.
# select_kernel.py (beside this script) decides which kernel the tier boots. 6.1: about 11 min
# of `make -j2`; 6.12: see tests/vm/README.md.
#   build-kernel.sh [--version 6.1|6.12]   build unless the cached kernel matches the fragment
#   build-kernel.sh --if-needed    do nothing when select_kernel.py already finds a usable
#                                  kernel (given by hand, prebuilt and verified, or cached)
#   build-kernel.sh --force        rebuild
# 6.12 is the kernel whose virtio-gpu has timeline syncobjs and DRM_IOCTL_SYNCOBJ_EVENTFD.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/syncway-vm.config
jobs=${SYNCWAY_KERNEL_JOBS:-2}
version=6.1
mode=build

while [ $# -gt 0 ]; do
  case "$1" in
    --version)
      [ $# -ge 2 ] || { echo "build-kernel: --version needs a value (6.1 or 6.12)" >&2; exit 2; }
      version=$2; shift ;;
    --version=*) version=${1#--version=} ;;
    --if-needed) mode=if-needed ;;
    --force) mode=force ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-kernel: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

case "$version" in
  6.1) cache=${XDG_CACHE_HOME:-$HOME/.cache}/syncway/vm-kernel ;;
  6.12) cache=${XDG_CACHE_HOME:-$HOME/.cache}/syncway/vm-kernel-6.12 ;;
  *) echo "build-kernel: unsupported version '$version' (6.1 or 6.12: Debian bookworm's linux-source-6.1, and linux-source-6.12 from bookworm-security)" >&2; exit 2 ;;
esac

if [ "$mode" = if-needed ]; then
  if found=$(python3 "$here/select_kernel.py" --version "$version" 2>/dev/null); then
    echo "build-kernel: a usable $version kernel is there (${found//$'\t'/: }); not building"
    exit 0
  fi
fi
[ "$mode" = force ] && rm -f "$cache/bzImage"

# The cached kernel is valid for one fragment and one source package version.
stamp="$(sha256sum "$fragment" | cut -d' ' -f1)"
if [ -f "$cache/bzImage" ] && [ "$(cat "$cache/fragment.sha256" 2>/dev/null)" = "$stamp" ]; then
  echo "build-kernel: $cache/bzImage is up to date"
  exit 0
fi

deps=("linux-source-$version" bc flex bison libelf-dev libssl-dev dwarves make gcc xz-utils)
missing=()
for p in "${deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "build-kernel: installing ${missing[*]}"
  # linux-source-6.12 comes from bookworm-security: stale package lists may not know it yet.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || {
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  }
fi

tarball=$(ls "/usr/src/linux-source-$version.tar."* | head -n1)
src=$cache/src
mkdir -p "$cache"
if [ ! -f "$src/Makefile" ]; then
  echo "build-kernel: unpacking $tarball into $src"
  rm -rf "$src.tmp" && mkdir -p "$src.tmp"
  tar -xf "$tarball" -C "$src.tmp" --strip-components=1
  mv "$src.tmp" "$src"
fi

cd "$src"
make -s defconfig
make -s kvm_guest.config
scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
make -s olddefconfig
# merge_config only warns when an option did not take; we refuse to build a kernel without them.
bad=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=y) grep -qx "$line" .config || { echo "build-kernel: $line did not take (dependency missing?)" >&2; bad=1; } ;;
  esac
done < "$fragment"
[ "$bad" = 0 ] || exit 1
echo "build-kernel: nice make -j$jobs bzImage in $src (6.1: about 11 minutes on 2 cores)"
start=$(date +%s)
nice -n 10 make -s -j"$jobs" bzImage
echo "build-kernel: make bzImage took $(( $(date +%s) - start )) s"
cp arch/x86/boot/bzImage "$cache/bzImage.tmp"
cp .config "$cache/config"
mv "$cache/bzImage.tmp" "$cache/bzImage"
echo "$stamp" > "$cache/fragment.sha256"
echo "build-kernel: built $cache/bzImage"
