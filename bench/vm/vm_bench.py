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

import argparse
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
    cmd = [sys.executable, str(tier), "run", "--session", "bench", "--checks", "cursor-motion",
           "--checks-dir", str(HERE / "guest"), "--source-root", args.source_root,
           "--build-root", args.build_root, "--check-timeout", "240", "--timeout", "290"]
    for e in args.env:
        cmd += ["--env", e]
    run = subprocess.run(cmd, capture_output=True, text=True)
    session = Path(args.build_root) / "tests" / "vm" / "sessions" / "bench"
    figures_file = session / "out" / "results" / "cursor-motion.figures"
    if run.returncode != 0 or not figures_file.is_file():
        sys.stdout.write(run.stdout[-4000:])
        print("bench-vm: the benchmark session failed (see above)")
        return 1
    f = dict(line.split("=", 1) for line in figures_file.read_text().split() if "=" in line)
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
