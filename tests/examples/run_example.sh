#!/bin/bash
# Runs one example headless inside syncway, recording every presented frame (syncway
# --record); then frame_check looks at every recorded frame (tests/examples/frame_check.cpp:
# each must show one whole frame, frames must never go back, and none may be older than a
# frame the example was told was presented by then) and the example's --json report is
# checked against the frames it was asked for. The recording holds every frame the compositor
# presented, so nothing depends on when a screenshot happened to be taken.
#
#   run_example.sh SYNCWAY FRAME_CHECK [FRAME_CHECK_ARGS...] -- EXAMPLE [ARGS...]
#
# The example is given --json, --frames and --presented-log; its window sits at the output's
# top left, under the pointer's default cursor (so the cursor's corner is not looked at unless
# FRAME_CHECK_ARGS say otherwise). With --expect-broken among FRAME_CHECK_ARGS the test passes
# only if frame_check catches a torn, stale or late frame, and the report is not checked.
set -u
syncway=$1 check=$2
shift 2
check_args=()
expect_broken=0
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  [ "$1" = --expect-broken ] && expect_broken=1
  check_args+=("$1"); shift
done
[ $# -ge 2 ] || { echo "usage: $0 SYNCWAY FRAME_CHECK [ARGS...] -- EXAMPLE [ARGS...]" >&2; exit 2; }
shift
# Every presented frame is recorded and checked: 90 frames check more distinct frames than the
# hundred screenshots of 150 frames the suite took before, in 1 s less per example.
frames=${EXAMPLE_FRAMES:-90}

dir=$(mktemp -d /tmp/syncway-example.XXXXXX)
trap 'rm -rf "$dir"' EXIT
timeout -k 5 150 "$syncway" --backend headless --output 640x480 --record "$dir/rec" -- \
  sh -c 'out=$1; shift; exec "$@" >"$out/stdout" 2>"$out/stderr"' sh "$dir" \
  "$@" --json --frames "$frames" --presented-log "$dir/presented.txt" \
  > "$dir/syncway.txt" 2>&1
rc=$?
echo "example: $* --json --frames $frames: exit $rc"
sed 's/^/example stderr: /' "$dir/stderr"
sed 's/^/example report: /' "$dir/stdout"
if [ $rc != 0 ]; then
  tail -n 30 "$dir/syncway.txt" 2>/dev/null
  echo "FAILED: syncway (with the example as its command) exited $rc"
  exit 1
fi
recorded=("$dir"/rec/HEADLESS-1-*.png)
[ -e "${recorded[0]}" ] || { echo "FAILED: no frame was recorded"; tail -n 30 "$dir/syncway.txt"; exit 1; }
# Each recorded frame is held to every example frame presented up to and including its own
# presentation time (the example's log and the trace share it: the same present event).
python3 - "$dir/rec/trace.jsonl" > "$dir/frame-times.txt" <<'PY' || exit 1
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "frame" and r.get("output") == "HEADLESS-1" and r.get("file"):
        print(r["file"], r["t"] + 1)
PY
"$check" "${check_args[@]}" --presented "$dir/presented.txt" --frame-times "$dir/frame-times.txt" "${recorded[@]}" || exit 1
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
