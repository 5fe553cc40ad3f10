#!/usr/bin/env python3
"""B8: what recording costs, beside a grim capture per frame, measured in the same run.

At 1920x1080 headless (pixman, --output 1920x1080@0 so frames follow the client, not a timer),
weston-simple-shm draws 300 frames, each different:
  plain     syncway --frames 300 -- weston-simple-shm
  record    the same with --record DIR (every frame read back, compared, written as PNG)
  grim      syncway at 60 Hz without --record and weston-simple-shm, 300 `grim FILE` captures in a row
            (the way a CI job without --record gets frames; weston 10 has no wlr-screencopy,
            so grim runs against syncway)
CPU is user+system of the whole process tree (syncway, the client, grim), from getrusage of
waited-for children; the recording's cost per frame is (record - plain) / frames. The goal:
less than one grim capture per frame (wall time and CPU of one `grim`).
usage: record_overhead.py SYNCWAY [--frames N] [--rounds R]
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def run(cmd, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, cpu


def median(values):
    s = sorted(values)
    return s[len(s) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("syncway")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("grim") or not shutil.which("weston-simple-shm"):
        sys.exit("needs grim and weston-simple-shm (Debian: grim, weston)")
    n = args.frames
    base = [args.syncway, "--backend", "headless", "--renderer", "pixman", "--output", "1920x1080@0"]
    results = {"plain": [], "record": [], "grim": []}
    pngs = 0
    with tempfile.TemporaryDirectory(prefix="syncway-b8-") as tmp:
        for r in range(args.rounds):
            results["plain"].append(run(base + ["--frames", str(n), "--", "weston-simple-shm"]))
            rec = os.path.join(tmp, f"rec{r}")
            results["record"].append(run(base + ["--frames", str(n), "--record", rec, "--", "weston-simple-shm"]))
            pngs = len([f for f in os.listdir(rec) if f.endswith(".png")])
            shutil.rmtree(rec)
            shots = os.path.join(tmp, "shots")
            os.makedirs(shots, exist_ok=True)
            # The loop's own wall time, without syncway's start and stop.
            loop = (f'weston-simple-shm & sleep 0.5; t0=$(date +%s%N); i=0; '
                    f'while [ $i -lt {n} ]; do grim "{shots}/$i.png" || exit 1; i=$((i+1)); done; '
                    f't1=$(date +%s%N); echo $((t1-t0)) > "{tmp}/grim-ns"; kill $!')
            # At 60 Hz: at @0 the client would keep the compositor busy between captures, which
            # would only make grim look slower.
            wall, cpu = run(base[:-1] + ["1920x1080@60", "--", "sh", "-c", loop])
            loop_s = int(open(os.path.join(tmp, "grim-ns")).read()) / 1e9
            results["grim"].append((loop_s, cpu))
            shutil.rmtree(shots)
    plain_w, plain_c = median([w for w, _ in results["plain"]]), median([c for _, c in results["plain"]])
    rec_w, rec_c = median([w for w, _ in results["record"]]), median([c for _, c in results["record"]])
    grim_w, grim_c = median([w for w, _ in results["grim"]]), median([c for _, c in results["grim"]])
    per_frame_cpu = (rec_c - plain_c) / n * 1000
    print(f"B8 at 1920x1080, {n} frames of weston-simple-shm, median of {args.rounds} rounds "
          f"({pngs} PNGs written per recorded run):")
    print(f"  plain    wall {plain_w:6.2f} s  ({n / plain_w:6.1f} frames/s)  CPU {plain_c:6.2f} s  "
          f"({plain_c / n * 1000:6.2f} ms/frame, compositor + client)")
    print(f"  record   wall {rec_w:6.2f} s  ({n / rec_w:6.1f} frames/s)  CPU {rec_c:6.2f} s  "
          f"({rec_c / n * 1000:6.2f} ms/frame, compositor + client)")
    print(f"  grim     wall {grim_w:6.2f} s for {n} captures ({grim_w / n * 1000:6.2f} ms each), "
          f"CPU {grim_c:6.2f} s of the whole run ({grim_c / n * 1000:6.2f} ms per capture, incl. the client's)")
    print(f"B8 recording cost per frame: {per_frame_cpu:.2f} ms CPU, {(rec_w - plain_w) / n * 1000:.2f} ms wall; "
          f"one grim capture: {grim_w / n * 1000:.2f} ms wall; ratio (recording wall per frame / grim wall) "
          f"{(rec_w - plain_w) / grim_w:.2f}; goal < 1: {'met' if rec_w - plain_w < grim_w else 'NOT met'}")


if __name__ == "__main__":
    main()
