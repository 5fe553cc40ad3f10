#!/usr/bin/env python3
"""VM-tier benchmark: boots the tier's VM once and prints, beside their baselines measured in
the same run:
  - syncway's CPU time per cursor move on vkms (pixman) with the hardware cursor plane, beside
    the same motion with the software cursor forced (WLR_NO_HARDWARE_CURSORS=1);
  - boot to the first presented client frame (guest uptime), beside the boot to the guest's
    init (the VM's fixed cost).
TCG makes absolute numbers meaningless; the ratios are the figures.
Usage: vm_bench.py --source-root S --build-root B [--env K=V ...] (e.g. --env SYNCWAY=/path/to/syncway)
"""

import sys

import bench_session


def main():
    args = bench_session.parse_args(__doc__)
    result = bench_session.run(args, "bench", "cursor-motion", 240, 290, "bench-vm")
    if result is None:
        return 1
    session, f = result
    boot = (session / "out" / "boot-stamp").read_text().split()[1]
    hw, sw = float(f["hardware_cpu_ms_per_move"]), float(f["software_cpu_ms_per_move"])
    print(f"VM tier benchmark (qemu TCG, vkms, pixman; {f['moves']} moves {f['interval_ms']} ms apart)")
    print(f"  cursor on the hardware plane: {f['hardware_cursor_plane']}; in the software run: {f['software_cursor_plane']}")
    print(f"  CPU per cursor move: hardware plane {hw:.3f} ms | software cursor (baseline) {sw:.3f} ms"
          f" | ratio {hw / sw if sw else float('nan'):.2f}")
    first = float(f["first_frame_uptime_s"])
    print(f"  boot to first presented frame: {first:.1f} s guest uptime | boot to init (baseline) {float(boot):.1f} s"
          f" | syncway+client share {first - float(boot):.1f} s")
    print(f"  session wall time {(session / 'wall-seconds').read_text().strip()} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
