#!/usr/bin/env bash
# Installs the Debian packages syncway needs, then configures and builds. Idempotent and
# non-interactive; run as root (or with sudo available).
#   scripts/setup.sh --run      what running needs: build and run-time packages, then builds
#                               syncway, its library, tools and examples (scripts/run.sh)
#   scripts/setup.sh            everything, for the test suites too (test peers, sanitizer
#                               runtime, the VM tier's qemu), then builds everything
#   scripts/setup.sh --deps     install packages only (add --run for the smaller set)
# Never builds a kernel: scripts/test.sh does that, and only when the vm suite runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

want=test
deps_only=0
for arg in "$@"; do
  case "$arg" in
    --run) want=run ;;
    --deps) deps_only=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Building and running syncway (scripts/run.sh needs only these).
packages=(
  # toolchain and build
  build-essential g++ meson ninja-build pkg-config scdoc
  # libraries
  libwlroots-dev libwayland-dev wayland-protocols libdrm-dev libgbm-dev libpixman-1-dev
  libxkbcommon-dev libseat-dev libinput-dev libudev-dev libegl-dev libgles-dev
  libegl1-mesa-dev libgles2-mesa-dev libxcb1-dev libvulkan-dev libpng-dev nlohmann-json3-dev
  # run time: Mesa llvmpipe and lavapipe, cursor theme, seat daemon, Vulkan demo clients
  libegl-mesa0 libgl1-mesa-dri mesa-utils mesa-vulkan-drivers vulkan-tools xcursor-themes
  adwaita-icon-theme seatd
  # the demo's screenshot, and the terminal of the nested session
  grim foot
)
# Testing it as well (scripts/test.sh).
test_packages=(
  # the ASan+UBSan build and the unit-test framework
  clang libclang-rt-14-dev libgtest-dev googletest
  # real peers and clients for tests and benchmarks
  weston wayland-utils sway libgtk-4-bin gtk-4-examples xvfb vulkan-validationlayers wtype
  # screen recorder, VNC server and output configuration checked against syncway (tests/record)
  wf-recorder wayvnc wlr-randr
  # image checks in tests, process tools
  imagemagick procps util-linux psmisc
  # the Debian package's build and check (debian/)
  debhelper dpkg-dev fakeroot lintian
  # VM tier
  qemu-system-x86 busybox-static kmod cpio
  # VM tier, session virgl: qemu's virtio-gpu-gl device and SDL display (gl=on), shown on an
  # Xvfb (package xvfb, above) so that virglrenderer renders the guest's GL with the host's Mesa
  qemu-system-gui
  # VM tier: udevd inside the guest, so libinput and wlroots' DRM session see the devices
  udev
)
[ "$want" = test ] && packages+=("${test_packages[@]}")

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

[ "$deps_only" = 1 ] && exit 0

cd "$here"
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=debugoptimized
fi
if [ "$want" = run ]; then
  # Only what running needs: the targets `meson install` would install (compositor, library,
  # daemon, tools, examples, the Vulkan layer), not the tests and benchmarks.
  mapfile -t targets < <(meson introspect build --targets | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["installed"]:
        for f in t["filename"]:
            print(os.path.relpath(f, os.path.realpath("build")))')
  ninja -C build "${targets[@]}"
else
  ninja -C build
fi
echo "setup: built into $here/build"
