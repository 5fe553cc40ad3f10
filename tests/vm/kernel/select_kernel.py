#!/usr/bin/env python3
"""Chooses the VM tier's kernel for one version: the single place that decides.

Order, for version V (6.1 or 6.12):
  1. $SYNCWAY_VM_KERNEL (6.1) / $SYNCWAY_VM_KERNEL_612 (6.12): a bzImage given by hand, taken
     as it is.
  2. A directory of prebuilt kernels, $SYNCWAY_VM_PREBUILT (see tests/vm/README.md for its
     layout: bzImage / bzImage-6.12, each with <name>.sha256 and optionally
     fragment[-6.12].sha256 and config[-6.12]). A prebuilt kernel is used only when its own
     sha256 verifies AND it was built for our fragment (syncway-vm.config beside this file):
     either its recorded fragment sha256 equals ours, or, when none is recorded, its .config
     holds every option our fragment sets. Anything else is reported and skipped, never used.
  3. The kernel build-kernel.sh built into ~/.cache/syncway (valid for the fragment it recorded).
The prebuilt directory comes from the environment because it lies outside the repository: the
caller (CI, a developer) knows where its kernels are; the code does not guess.

As a program: `select_kernel.py --version V` prints the chosen path and why on stdout and exits
0, or prints what it looked at on stderr and exits 1 (build-kernel.sh --if-needed uses this).
"""

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAGMENT = HERE / "syncway-vm.config"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "syncway"
VERSIONS = {
    # version: (override variable, cache dir, prebuilt file name suffix)
    "6.1": ("SYNCWAY_VM_KERNEL", CACHE / "vm-kernel", ""),
    "6.12": ("SYNCWAY_VM_KERNEL_612", CACHE / "vm-kernel-6.12", "-6.12"),
}


class NoKernel(Exception):
    """No usable kernel; the message names every place looked at and why each was refused."""


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def first_word(path):
    words = Path(path).read_text().split()
    return words[0] if words else ""


def config_options(text):
    """{CONFIG_X: value} of a .config or fragment; '# CONFIG_X is not set' is value 'n'."""
    options = {}
    for line in text.splitlines():
        line = line.strip()
        m = re.fullmatch(r"(CONFIG_\w+)=(.*)", line)
        if m:
            options[m.group(1)] = m.group(2)
            continue
        m = re.fullmatch(r"# (CONFIG_\w+) is not set", line)
        if m:
            options[m.group(1)] = "n"
    return options


def fragment_mismatches(config_text, fragment_text):
    """The fragment's options that the config does not hold, as 'CONFIG_X=want (has: got)'."""
    have = config_options(config_text)
    return [f"{k}={v} (has: {have.get(k, 'n')})"
            for k, v in config_options(fragment_text).items() if have.get(k, "n") != v]


def check_prebuilt(directory, version, fragment=FRAGMENT):
    """Returns (path, why) for a usable prebuilt kernel, or raises NoKernel saying why not."""
    suffix = VERSIONS[version][2]
    kernel = Path(directory) / f"bzImage{suffix}"
    if not kernel.is_file():
        raise NoKernel(f"{kernel}: not there")
    sums = kernel.with_name(kernel.name + ".sha256")
    if not sums.is_file():
        raise NoKernel(f"{kernel}: no {sums.name} beside it (an unverified kernel is not used)")
    expected = first_word(sums)
    actual = sha256_of(kernel)
    if actual != expected:
        raise NoKernel(f"{kernel}: sha256 {actual} does not match {sums.name} ({expected})")
    ours = sha256_of(fragment)
    recorded = kernel.with_name(f"fragment{suffix}.sha256")
    if recorded.is_file():
        theirs = first_word(recorded)
        if theirs != ours:
            raise NoKernel(f"{kernel}: built from fragment {theirs[:12]}…, ours is {ours[:12]}… "
                           f"({fragment.name} changed since)")
        return kernel, f"prebuilt, sha256 verified, fragment sha256 {ours[:12]}… matches"
    config = kernel.with_name(f"config{suffix}")
    if not config.is_file():
        raise NoKernel(f"{kernel}: neither {recorded.name} nor {config.name} beside it, so "
                       "nothing says it was built for our fragment")
    missing = fragment_mismatches(config.read_text(), Path(fragment).read_text())
    if missing:
        raise NoKernel(f"{kernel}: its {config.name} lacks {len(missing)} option(s) of "
                       f"{fragment.name}: " + ", ".join(missing[:5]))
    return kernel, (f"prebuilt, sha256 verified, its {config.name} holds every option of "
                    f"{fragment.name} (no fragment sha256 recorded)")


def select(version, environ=None, fragment=FRAGMENT):
    """Returns (path, why) or raises NoKernel naming every place looked at."""
    environ = os.environ if environ is None else environ
    variable, cache, _ = VERSIONS[version]
    given = environ.get(variable)
    if given:
        if not Path(given).is_file():
            raise NoKernel(f"${variable}={given} is not a file")
        return Path(given), f"${variable}"
    refused = [f"${variable} (unset)"]
    prebuilt = environ.get("SYNCWAY_VM_PREBUILT")
    if prebuilt:
        try:
            return check_prebuilt(prebuilt, version, fragment)
        except NoKernel as e:
            refused.append(str(e))
    else:
        refused.append("$SYNCWAY_VM_PREBUILT (unset)")
    cached = cache / "bzImage"
    stamp = cache / "fragment.sha256"
    if cached.is_file() and stamp.is_file() and first_word(stamp) == sha256_of(fragment):
        return cached, f"built by tests/vm/kernel/build-kernel.sh --version {version}"
    refused.append(f"{cached}: " + ("built for another fragment" if cached.is_file()
                                    else "not built"))
    raise NoKernel(f"no {version} kernel for the VM tier: " + "; ".join(refused))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", default="6.1", choices=sorted(VERSIONS))
    args = parser.parse_args()
    try:
        path, why = select(args.version)
    except NoKernel as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{path}\t{why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
