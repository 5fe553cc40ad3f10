#!/usr/bin/env bash
# Makes (once) a Debian trixie root holding today's peers for benchmarks: sway 1.10 (wlroots
# 0.18) and weston 14 with its demo clients. Benchmarks only: never part of scripts/run.sh or
# scripts/test.sh. Prints the root's path. Needs root, debootstrap and Debian's mirror.
#   bench/peers/trixie-root.sh [--root DIR]   (default ~/.cache/syncway/trixie-root)
# The root gets the host's unprivileged bench user (syncway-bench, same uid and gid), since
# sway refuses to run as root. Time here: debootstrap --variant=minbase ~25 s, then ~35 s of apt
# on a quiet machine.
set -euo pipefail
root=${XDG_CACHE_HOME:-$HOME/.cache}/syncway/trixie-root
case "${1:-}" in
  --root) root=${2:?--root needs a directory} ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "trixie-root: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "trixie-root: needs root (debootstrap, chroot)" >&2; exit 2; }
if [ -x "$root/usr/bin/sway" ] && [ -x "$root/usr/bin/weston" ] && [ -f "$root/.syncway-peers-ready" ]; then
  echo "$root"
  exit 0
fi
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$root"
mkdir -p "$(dirname "$root")"
t0=$(date +%s)
debootstrap --variant=minbase trixie "$root" "$mirror" >&2
t1=$(date +%s)
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount --bind /proc "$root/proc"
trap 'umount -l "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  sway weston xwayland- >&2
t2=$(date +%s)
# The bench user, with the host's ids (the bench switches to them inside the root).
if id syncway-bench >/dev/null 2>&1; then
  uid=$(id -u syncway-bench); gid=$(id -g syncway-bench)
  chroot "$root" groupadd --system --gid "$gid" syncway-bench 2>/dev/null || true
  chroot "$root" useradd --system --no-create-home --uid "$uid" --gid "$gid" --shell /usr/sbin/nologin \
    syncway-bench 2>/dev/null || true
fi
echo "debootstrap $((t1 - t0)) s, apt $((t2 - t1)) s: $(chroot "$root" sway --version 2>/dev/null), $(chroot "$root" weston --version 2>/dev/null)" \
  | tee "$root/.syncway-peers-ready" >&2
echo "$root"
