#!/usr/bin/env python3
"""VM-tier benchmark B9: boots the tier's VM once and prints syncway's CPU time per presented
frame on vkms (pixman), both halves of the figure in the same VM run, rounds alternating:
- framebuffers: from the dma-buf heap `system` (--buffer-heap system) beside DRM dumb buffers
  (--buffer-heap none), same client (examples/explicit-sync-shm, an 800x600 window, composited
  every frame);
- direct scan-out: a full-output opaque client dma-buf from the `system` heap
  (examples/explicit-sync-tiles --buffer dmabuf at the mode's size) put on the primary plane as
  it is (--direct-scanout auto) beside composited (--direct-scanout off).
TCG makes absolute numbers meaningless; the ratios are the figures.
Usage: heap_bench.py --source-root S --build-root B [--env K=V ...]
"""

import statistics
import sys

import bench_session


def main():
    args = bench_session.parse_args(__doc__)
    result = bench_session.run(args, "bench-heap", "heap-frames", 900, 1000, "bench-vm-heap")
    if result is None:
        return 1
    session, f = result
    rounds = int(f["rounds"])
    halves = f.get("halves", "framebuffers").split(",")

    def half(modes):
        per = {m: [float(f[f"{m}_{r}_cpu_ms_per_frame"]) for r in range(1, rounds + 1)] for m in modes}
        fps = {m: [float(f[f"{m}_{r}_fps"]) for r in range(1, rounds + 1)] for m in modes}
        return per, fps, [statistics.median(per[m]) for m in modes]

    if "framebuffers" in halves:
        per, fps, (heap, dumb) = half(("heap", "dumb"))
        print(f"B9 framebuffers (qemu TCG, vkms, pixman; explicit-sync-shm 800x600, {f['frames']} frames, {rounds} rounds each)")
        print(f"  syncway CPU per presented frame: heap 'system' {heap:.3f} ms (rounds {per['heap']})"
              f" | DRM dumb buffers (baseline) {dumb:.3f} ms (rounds {per['dumb']}) | ratio {heap / dumb if dumb else float('nan'):.2f}")
        print(f"  client frames/s: heap {fps['heap']} | dumb {fps['dumb']}")
    if "scanout" in halves:
        per, fps, (scanout, composite) = half(("scanout", "composite"))
        print(f"B9 direct scan-out (qemu TCG, vkms, pixman, heap framebuffers; explicit-sync-tiles full-output"
              f" dma-buf, {f['scanout_frames']} frames, {rounds} rounds each)")
        print(f"  syncway CPU per presented frame: scanned out {scanout:.3f} ms (rounds {per['scanout']})"
              f" | composited (baseline, --direct-scanout off) {composite:.3f} ms (rounds {per['composite']})"
              f" | ratio {scanout / composite if composite else float('nan'):.2f}")
        print(f"  client frames/s: scanned out {fps['scanout']} | composited {fps['composite']}")
    print(f"  session wall time {(session / 'wall-seconds').read_text().strip()} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
