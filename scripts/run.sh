#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh: Debian packages, configure, build) and runs syncway.
#   - In a graphical session (WAYLAND_DISPLAY or DISPLAY set): nested, as a window of your
#     session, with a terminal (foot) inside. Close the window (or the terminal) to quit.
#   - Otherwise: headless, with a demo client (weston-simple-egl, Mesa llvmpipe); a grim
#     screenshot of the result is saved and its path printed.
# Arguments go to syncway (e.g. scripts/run.sh --output 1280x720 --renderer pixman).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

"$here/scripts/setup.sh"
syncway="$here/build/compositor/syncway"

if [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${DISPLAY:-}" ]; then
  echo "run: starting syncway nested in your session with a terminal inside; close it to quit"
  exec "$syncway" "$@" -- foot
fi

shot="${SYNCWAY_SCREENSHOT:-$here/build/syncway-demo.png}"
echo "run: no graphical session; starting syncway headless with a demo client"
# The demo runs as syncway's COMMAND: syncway exits with its status when it is done.
"$syncway" --backend headless "$@" -- sh -c '
  weston-simple-egl >/dev/null 2>&1 &
  client=$!
  # Give llvmpipe a moment to draw a few frames of the rotating triangle.
  sleep 2
  grim "$1"
  status=$?
  kill "$client" 2>/dev/null
  wait "$client" 2>/dev/null
  exit $status
' demo "$shot"
echo
echo "run: syncway ran headless; screenshot of its output (weston-simple-egl inside): $shot"
echo "run: try it yourself:  $syncway --backend headless -- wayland-info"
