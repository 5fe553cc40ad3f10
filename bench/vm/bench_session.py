"""What the VM-tier benchmarks share: their command line, one boot of the tier's VM running one
guest check from bench/vm/guest/, and the `key=value` figures that check writes."""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(doc):
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source-root", required=True)
    p.add_argument("--build-root", required=True)
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="extra guest environment")
    return p.parse_args()


def run(args, session, check, check_timeout, timeout, name):
    """Boots the VM for `session`, runs the guest check `check`; returns (the session's
    directory, the check's figures as a dict), or None after printing why it failed."""
    tier = Path(args.source_root) / "tests" / "vm" / "vm_tier.py"
    cmd = [sys.executable, str(tier), "run", "--session", session, "--checks", check,
           "--checks-dir", str(HERE / "guest"), "--source-root", args.source_root,
           "--build-root", args.build_root, "--check-timeout", str(check_timeout), "--timeout", str(timeout)]
    for e in args.env:
        cmd += ["--env", e]
    done = subprocess.run(cmd, capture_output=True, text=True)
    session_dir = Path(args.build_root) / "tests" / "vm" / "sessions" / session
    figures_file = session_dir / "out" / "results" / f"{check}.figures"
    if done.returncode != 0 or not figures_file.is_file():
        sys.stdout.write(done.stdout[-4000:])
        print(f"{name}: the benchmark session failed (see above)")
        return None
    figures = dict(item.split("=", 1) for item in figures_file.read_text().split() if "=" in item)
    return session_dir, figures
