#!/usr/bin/env bash
# Sets up what running needs (scripts/setup.sh --run: Debian packages, build of syncway, its
# library, tools and examples; no test-only work) and runs syncway.
#   - In a graphical session (WAYLAND_DISPLAY or DISPLAY set): nested, as a window of your
#     session, with a terminal (foot) inside. Close the window (or the terminal) to quit.
#   - Otherwise: headless, with the explicit-sync demo client inside (examples/: it commits
#     every frame before it is drawn, and syncway shows each only once it is finished); a grim
#     screenshot is saved and its path printed, with how to run your own application.
# Arguments go to syncway (e.g. scripts/run.sh --output 1280x720 --renderer pixman).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

"$here/scripts/setup.sh" --run
syncway="$here/build/compositor/syncway"

if [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${DISPLAY:-}" ]; then
  echo "run: starting syncway nested in your session with a terminal inside; close it to quit"
  exec "$syncway" "$@" -- foot
fi

shot="$here/build/syncway-demo.png"
demo="$here/build/examples/explicit-sync-shm"
echo "run: no graphical session; starting syncway headless with an explicit-sync demo client"
# The demo runs as syncway's COMMAND: syncway exits with its status when it is done. The
# client draws 90 frames, each committed before it is drawn (acquire point, wait-before-
# signal); the screenshot is taken while it runs.
"$syncway" --backend headless "$@" -- sh -c '
  "$1" --frames 90 &
  client=$!
  sleep 1
  grim "$2"
  status=$?
  wait "$client" || status=$?
  exit $status
' demo "$demo" "$shot"
echo
echo "run: syncway ran headless; screenshot of its output (the explicit-sync demo): $shot"
echo "run: run your own Wayland application inside it, e.g.:"
echo "       $syncway --backend headless -- sh -c 'weston-simple-shm & sleep 2; grim shot.png'"
echo "     (nested in a desktop session: $syncway -- foot)"
