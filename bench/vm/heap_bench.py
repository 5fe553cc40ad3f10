#!/usr/bin/env python3
"""VM-tier benchmark B9 (framebuffers): boots the tier's VM once and prints syncway's CPU time
per presented frame on vkms (pixman) with its framebuffers from the dma-buf heap `system`
(--buffer-heap system) beside DRM dumb buffers (--buffer-heap none), same VM run, same client
(examples/explicit-sync-shm, an 800x600 window, composited every frame), rounds alternating.
TCG makes absolute numbers meaningless; the ratio is the figure.
Usage: heap_bench.py --source-root S --build-root B [--env K=V ...]
"""

import statistics
import sys

import bench_session


def main():
    args = bench_session.parse_args(__doc__)
    result = bench_session.run(args, "bench-heap", "heap-frames", 400, 480, "bench-vm-heap")
    if result is None:
        return 1
    session, f = result
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
