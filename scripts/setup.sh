#!/usr/bin/env bash
# Installs every Debian package syncway needs to build, run and test, then configures and
# builds. Idempotent and non-interactive; run as root (or with sudo available).
#   scripts/setup.sh            install + configure + build (build dir: build/)
#   scripts/setup.sh --deps     install packages only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  # toolchain and build
  build-essential g++ clang libclang-rt-14-dev meson ninja-build pkg-config
  libgtest-dev googletest
  # libraries
  libwlroots-dev libwayland-dev wayland-protocols libdrm-dev libgbm-dev libpixman-1-dev
  libxkbcommon-dev libseat-dev libinput-dev libudev-dev libegl-dev libgles-dev
  libegl1-mesa-dev libgles2-mesa-dev libxcb1-dev
  # run time: Mesa llvmpipe, cursor theme, seat daemon
  libegl-mesa0 libgl1-mesa-dri mesa-utils xcursor-themes adwaita-icon-theme seatd
  # real peers for tests and benchmarks
  weston wayland-utils grim sway foot libgtk-4-bin xvfb
  # image checks in tests, process tools
  imagemagick procps util-linux psmisc
  # VM tier
  qemu-system-x86 busybox-static kmod cpio
  # VM tier, session virgl: qemu's virtio-gpu-gl device and SDL display (gl=on), shown on an
  # Xvfb (package xvfb, above) so that virglrenderer renders the guest's GL with the host's Mesa
  qemu-system-gui
  # VM tier: udevd inside the guest, so libinput and wlroots' DRM session see the devices
  udev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

[ "${1:-}" = "--deps" ] && exit 0

cd "$here"
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=debugoptimized
fi
ninja -C build
# The VM tier's kernel (tests/vm): nothing to do when ../shared/vm/bzImage or
# $SYNCWAY_VM_KERNEL provides one; otherwise built once per machine into ~/.cache/syncway.
tests/vm/kernel/build-kernel.sh --if-needed
# The 6.12 kernel of the VM tier's session kernel612 (virtio-gpu with kernel timeline
# syncobjs): nothing to do when $SYNCWAY_VM_KERNEL_612 provides one; otherwise built once per
# machine into ~/.cache/syncway/vm-kernel-6.12 (time: tests/vm/README.md).
tests/vm/kernel/build-kernel.sh --version 6.12 --if-needed
echo "setup: built into $here/build"
