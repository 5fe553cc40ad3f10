#!/usr/bin/env bash
# Builds the VM tier's kernel once per machine: Debian's linux-source-6.1 with defconfig,
# kvm_guest.config and our fragment (syncway-vm.config beside this script), into
# ~/.cache/syncway/vm-kernel/bzImage (vm_tier.py looks there after $SYNCWAY_VM_KERNEL and
# ../shared/vm/bzImage). About 11 minutes of `make -j2` and 1.9 GB of unpacked source.
#   build-kernel.sh              build unless the cached kernel matches the fragment
#   build-kernel.sh --if-needed  do nothing when $SYNCWAY_VM_KERNEL or ../shared/vm/bzImage exists
#   build-kernel.sh --force      rebuild
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/syncway/vm-kernel
fragment=$here/syncway-vm.config
jobs=${SYNCWAY_KERNEL_JOBS:-2}

case "${1:-}" in
  --if-needed)
    if [ -n "${SYNCWAY_VM_KERNEL:-}" ] || [ -f "$repo/../shared/vm/bzImage" ]; then
      echo "build-kernel: a kernel is provided (SYNCWAY_VM_KERNEL or ../shared/vm/bzImage); not building"
      exit 0
    fi ;;
  --force) rm -f "$cache/bzImage" ;;
  "") ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "build-kernel: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

# The cached kernel is valid for one fragment and one source package version.
stamp="$(sha256sum "$fragment" | cut -d' ' -f1)"
if [ -f "$cache/bzImage" ] && [ "$(cat "$cache/fragment.sha256" 2>/dev/null)" = "$stamp" ]; then
  echo "build-kernel: $cache/bzImage is up to date"
  exit 0
fi

deps=(linux-source-6.1 bc flex bison libelf-dev libssl-dev dwarves make gcc xz-utils)
missing=()
for p in "${deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "build-kernel: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n1)
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
echo "build-kernel: make -j$jobs bzImage in $src (about 11 minutes on 2 cores)"
time make -s -j"$jobs" bzImage
cp arch/x86/boot/bzImage "$cache/bzImage.tmp"
cp .config "$cache/config"
mv "$cache/bzImage.tmp" "$cache/bzImage"
echo "$stamp" > "$cache/fragment.sha256"
echo "build-kernel: built $cache/bzImage"
