#!/usr/bin/env bash
# Measures what a new user waits for: from a fresh clone on a Debian bookworm system that has
# none of syncway's packages, `scripts/run.sh` (headless) until syncway is running and until
# the demo's screenshot exists. The clean system is a minimal bookworm root made with
# debootstrap (not counted); the clone is `git clone` of this repository's HEAD into it.
# Needs root, debootstrap and Debian's package mirror (the same one apt uses here).
#   scripts/fresh-clone-run.sh [--keep DIR]   (--keep: leave the root in DIR for a look)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
keep=""
case "${1:-}" in
  --keep) keep=${2:?--keep needs a directory} ;;
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "fresh-clone-run: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "fresh-clone-run: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null

root=${keep:-$(mktemp -d /var/tmp/syncway-fresh.XXXXXX)}
mkdir -p "$root"
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  [ -n "$keep" ] || rm -rf "$root"
}
trap cleanup EXIT

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
t0=$(date +%s)
debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" "$mirror" >/dev/null
echo "fresh-clone-run: clean bookworm root made in $(( $(date +%s) - t0 )) s (not counted)"
for m in proc sys dev dev/pts; do
  mount --bind "/$m" "$root/$m"; mounted+=("$root/$m")
done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
git clone -q "$here" "$root/root/syncway"

# Time stamps from inside: the moment syncway logs that it listens, and the screenshot's end.
start=$(date +%s.%N)
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c 'cd /root/syncway && scripts/run.sh 2>&1' | while IFS= read -r line; do
    printf '%8.1f s  %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
  done > "$root/run.log"
status=${PIPESTATUS[0]}
running=$(grep -m1 "syncway: listening on" "$root/run.log" | awk '{print $1}')
shot=$(grep -m1 "run: syncway ran headless" "$root/run.log" | awk '{print $1}')
grep -E "setup: installing|setup: built|listening on|ran headless" "$root/run.log" | cut -c1-160
echo "fresh-clone-run: scripts/run.sh exited $status"
echo "fresh-clone-run: fresh clone -> compositor running: ${running:-never} s; -> demo screenshot: ${shot:-never} s"
[ "$status" = 0 ] && [ -n "$running" ] && [ -n "$shot" ]
