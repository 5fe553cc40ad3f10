#!/bin/bash
# Runs one example headless inside syncway while capture_loop takes screenshots with grim as
# fast as grim goes, noting when each was asked for; then frame_check looks at every
# screenshot (tests/examples/frame_check.cpp: each must show one whole frame, frames must never
# go back, and none may be older than a frame presented before the screenshot was asked for)
# and the example's --json report is checked against the frames it was asked for.
#
#   run_example.sh SYNCWAY FRAME_CHECK CAPTURE_LOOP [FRAME_CHECK_ARGS...] -- EXAMPLE [ARGS...]
#
# The example is given --json, --frames and --presented-log; its window sits at the output's
# top left, under the pointer's default cursor (so the cursor's corner is not looked at unless
# FRAME_CHECK_ARGS say otherwise). With --expect-broken among FRAME_CHECK_ARGS the test passes
# only if frame_check catches a torn, stale or late frame, and the report is not checked.
set -u
syncway=$1 check=$2 capture=$3
shift 3
check_args=()
expect_broken=0
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  [ "$1" = --expect-broken ] && expect_broken=1
  check_args+=("$1"); shift
done
[ $# -ge 2 ] || { echo "usage: $0 SYNCWAY FRAME_CHECK CAPTURE_LOOP [ARGS...] -- EXAMPLE [ARGS...]" >&2; exit 2; }
shift
frames=${EXAMPLE_FRAMES:-150}
max_shots=${EXAMPLE_MAX_SHOTS:-100}

dir=$(mktemp -d /tmp/syncway-example.XXXXXX)
trap 'rm -rf "$dir"' EXIT
timeout -k 5 150 "$syncway" --backend headless --output 640x480 -- \
  "$capture" "$dir" "$max_shots" -- "$@" --json --frames "$frames" --presented-log "$dir/presented.txt" \
  > "$dir/syncway.txt" 2>&1
rc=$?
echo "example: $* --json --frames $frames: exit $rc"
sed 's/^/example stderr: /' "$dir/stderr"
sed 's/^/example report: /' "$dir/stdout"
if [ $rc != 0 ]; then
  tail -n 30 "$dir/syncway.txt" "$dir/grim.txt" 2>/dev/null
  echo "FAILED: syncway (with the example as its command) exited $rc"
  exit 1
fi
shots=("$dir"/shot-*.ppm)
[ -e "${shots[0]}" ] || { echo "FAILED: grim took no screenshot"; cat "$dir/grim.txt"; exit 1; }
"$check" "${check_args[@]}" --presented "$dir/presented.txt" --shot-times "$dir/shots.txt" "${shots[@]}" || exit 1
[ $expect_broken = 1 ] && exit 0

# The report: every frame committed, each presented or discarded, most presented, and the
# figures consistent with each other.
python3 - "$dir/stdout" "$frames" <<'PY' || exit 1
import json, sys
text = open(sys.argv[1]).read()
frames = int(sys.argv[2])
try:
    r = json.loads(text)
except ValueError as e:
    sys.exit(f"FAILED: the report is not one JSON object ({e}): {text!r}")
problems = []
if r["frames_committed"] != frames:
    problems.append(f"{r['frames_committed']} frames committed, asked for {frames}")
if r["frames_presented"] + r["frames_discarded"] != r["frames_committed"]:
    problems.append("presented + discarded != committed")
if r["frames_presented"] < frames * 0.9:
    problems.append(f"only {r['frames_presented']} of {frames} frames presented")
lat = r["latency_ms"]
if not (0 < lat["p50"] <= lat["p99"] < 2000):
    problems.append(f"latency p50 {lat['p50']} / p99 {lat['p99']} ms out of order or range")
if not (0 < r["frames_per_second"] < 1000):
    problems.append(f"frames_per_second {r['frames_per_second']}")
if not (0 < r["client_cpu_ms_per_frame"] < 10000):
    problems.append(f"client_cpu_ms_per_frame {r['client_cpu_ms_per_frame']}")
if not (0 < r["main_thread_ms_per_frame"] < 10000):
    problems.append(f"main_thread_ms_per_frame {r['main_thread_ms_per_frame']}")
if problems:
    sys.exit("FAILED: report: " + "; ".join(problems))
print(f"report: {r['frames_presented']}/{frames} presented, {r['frames_per_second']} frames/s, "
      f"p50 {lat['p50']} ms, p99 {lat['p99']} ms")
PY
echo "1 passed"
