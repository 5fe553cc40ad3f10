#!/usr/bin/env python3
"""VM-tier benchmark B9 (framebuffers): boots the tier's VM once and prints syncway's CPU time
per presented frame on vkms (pixman) with its framebuffers from the dma-buf heap `system`
(--buffer-heap system) beside DRM dumb buffers (--buffer-heap none), same VM run, same client
(examples/explicit-sync-shm, an 800x600 window, composited every frame), rounds alternating.
TCG makes absolute numbers meaningless; the ratio is the figure.
Usage: heap_bench.py --source-root S --build-root B [--env K=V ...]
"""

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source-root", required=True)
    p.add_argument("--build-root", required=True)
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="extra guest environment")
    args = p.parse_args()
    tier = Path(args.source_root) / "tests" / "vm" / "vm_tier.py"
    cmd = [sys.executable, str(tier), "run", "--session", "bench-heap", "--checks", "heap-frames",
           "--checks-dir", str(HERE / "guest"), "--source-root", args.source_root,
           "--build-root", args.build_root, "--check-timeout", "400", "--timeout", "480"]
    for e in args.env:
        cmd += ["--env", e]
    run = subprocess.run(cmd, capture_output=True, text=True)
    session = Path(args.build_root) / "tests" / "vm" / "sessions" / "bench-heap"
    figures_file = session / "out" / "results" / "heap-frames.figures"
    if run.returncode != 0 or not figures_file.is_file():
        sys.stdout.write(run.stdout[-4000:])
        print("bench-vm-heap: the benchmark session failed (see above)")
        return 1
    f = dict(item.split("=", 1) for item in figures_file.read_text().split() if "=" in item)
    rounds = int(f["rounds"])
    per = {m: [float(f[f"{m}_{r}_cpu_ms_per_frame"]) for r in range(1, rounds + 1)] for m in ("heap", "dumb")}
    fps = {m: [float(f[f"{m}_{r}_fps"]) for r in range(1, rounds + 1)] for m in ("heap", "dumb")}
    heap, dumb = statistics.median(per["heap"]), statistics.median(per["dumb"])
    print(f"B9 framebuffers (qemu TCG, vkms, pixman; explicit-sync-shm 800x600, {f['frames']} frames, {rounds} rounds each)")
    print(f"  syncway CPU per presented frame: heap 'system' {heap:.3f} ms (rounds {per['heap']})"
          f" | DRM dumb buffers (baseline) {dumb:.3f} ms (rounds {per['dumb']}) | ratio {heap / dumb if dumb else float('nan'):.2f}")
    print(f"  client frames/s: heap {fps['heap']} | dumb {fps['dumb']}")
    print(f"  session wall time {(session / 'wall-seconds').read_text().strip()} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
