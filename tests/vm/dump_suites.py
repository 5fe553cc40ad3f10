#!/usr/bin/python3
"""Writes the build's meson tests (all suites but vm) as shell lines for the guest.

Usage: dump_suites.py BUILD_ROOT OUT_DIR. For each suite S, OUT_DIR/S.sh holds one line per
test: `vm_suite_test NAME SHOULD_FAIL TIMEOUT WORKDIR env K=V... CMD ARGS...` (checks take a
test's command from there), and OUT_DIR/devices/S.sh the lines of those tests that are also in
suite 'devices' (their outcome depends on kernel devices, see tests/meson.build): what
guest/lib.sh's vm_run_suites runs. Running meson itself in the guest costs ~30 s of Python
start-up under TCG; this reads meson's test list once on the host (it needs Debian's
mesonbuild, hence /usr/bin/python3) so the guest only runs the programs.
"""

import pickle
import shlex
import sys
from collections import defaultdict
from pathlib import Path

build, out = Path(sys.argv[1]), Path(sys.argv[2])
with open(build / "meson-private" / "meson_test_setup.dat", "rb") as f:
    tests = pickle.load(f)
lines = defaultdict(list)
device_lines = defaultdict(list)
for t in tests:
    suites = [s.split(":")[-1] for s in t.suite]
    for suite in suites:
        if suite in ("vm", "devices"):
            continue
        env = [f"{k}={v}" for k, v in t.env.get_env({}).items()]
        words = [t.name, "1" if t.should_fail else "0", str(t.timeout or 30), t.workdir or str(build),
                 "env"] + env + list(t.fname) + list(t.cmd_args)
        line = "vm_suite_test " + " ".join(shlex.quote(w) for w in words)
        lines[suite].append(line)
        if "devices" in suites:
            device_lines[suite].append(line)
(out / "devices").mkdir(parents=True, exist_ok=True)
for directory, by_suite in ((out, lines), (out / "devices", device_lines)):
    for suite, body in by_suite.items():
        (directory / f"{suite}.sh").write_text("\n".join(body) + "\n")
