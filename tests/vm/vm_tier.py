#!/usr/bin/env python3
"""The VM tier's host side: boots a kernel under qemu (TCG), runs checks inside, reports them.

One *session* is one boot: the guest runs every check of the session in turn (scripts in a
checks directory, one file per check) and writes each one's exit status and log to a writable
9p share. Each meson test is one check: `check NAME` makes sure the session ran during this
`meson test` invocation (the first test to get the session's lock boots the VM, the others wait
on the lock and then read what it wrote), then prints that check's log and exits with its
status. `run` boots a session unconditionally and prints a summary (for people and benchmarks).

Kernel (--kernel 6.1, the default, or 6.12: virtio-gpu with timeline syncobjs and
DRM_IOCTL_SYNCOBJ_EVENTFD): chosen by kernel/select_kernel.py (a given path, a verified prebuilt
one from $SYNCWAY_VM_PREBUILT built for our fragment, or the one kernel/build-kernel.sh built).
Exit 77 (skip) only when qemu cannot run here (missing, or it refuses to start).
"""

import argparse
import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qmp_input import QmpInputRelay

sys.path.insert(0, str(Path(__file__).resolve().parent / "kernel"))
import select_kernel  # noqa: E402  (beside this file, not a package)

SKIP = 77
HERE = Path(__file__).resolve().parent
QEMU = "qemu-system-x86_64"


class TierError(Exception):
    """A problem with the tier itself (no kernel, broken boot): the check fails with this."""


class QemuCannotRun(Exception):
    """qemu is missing or refuses to start here: the check is skipped with this reason."""


def find_kernel(version="6.1"):
    """Returns (path, how it was chosen) or raises TierError naming every place looked at."""
    try:
        return select_kernel.select(version)
    except select_kernel.NoKernel as e:
        raise TierError(
            f"{e}. Build one once per machine with tests/vm/kernel/build-kernel.sh --version "
            f"{version} (scripts/test.sh does when the vm suite runs; see tests/vm/README.md for "
            "its time on 2 cores), or point $SYNCWAY_VM_PREBUILT at a directory of prebuilt "
            "kernels."
        ) from None


def cpio_newc(entries):
    """A newc cpio archive from (name, mode, data, rdev_major, rdev_minor) tuples."""
    out = bytearray()

    def pad4():
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rmaj, rmin) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)], 1):
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rmaj, rmin, len(name) + 1, 0]
        out.extend(b"070701" + b"".join(b"%08X" % v for v in fields))
        out.extend(name.encode() + b"\0")
        pad4()
        out.extend(data)
        pad4()
    return bytes(out)


def initramfs(cache_dir):
    """Builds (once per content) the busybox initramfs; returns its path."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not Path(busybox).is_file():
        raise TierError("busybox not found (Debian package busybox-static)")
    bb = Path(busybox).read_bytes()
    init = (HERE / "guest" / "init").read_bytes()
    digest = hashlib.sha256(b"newc-v1\0" + bb + b"\0" + init).hexdigest()[:16]
    path = Path(cache_dir) / f"initramfs-{digest}.cpio"
    if path.is_file():
        return path
    S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000
    entries = [(d, S_IFDIR | 0o755, b"", 0, 0) for d in ("bin", "dev", "proc", "sys", "host", "out")]
    entries += [
        ("dev/console", S_IFCHR | 0o600, b"", 5, 1),  # the kernel opens it before init runs
        ("bin/busybox", S_IFREG | 0o755, bb, 0, 0),
        ("init", S_IFREG | 0o755, init, 0, 0),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("initramfs-*.cpio"):
        stale.unlink(missing_ok=True)
    tmp = path.with_suffix(".tmp%d" % os.getpid())
    tmp.write_bytes(cpio_newc(entries))
    tmp.replace(path)
    return path


def meson_invocation():
    """Identifies the `meson test` process we run under, or None when run by hand."""
    ppid = os.getppid()
    try:
        cmdline = Path(f"/proc/{ppid}/cmdline").read_bytes().replace(b"\0", b" ")
        start = Path(f"/proc/{ppid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None
    return f"{ppid}:{start}" if b"meson" in cmdline else None


class HostDisplay:
    """An Xvfb of the session's own for qemu's SDL window (virgl sessions), or nothing."""

    def __init__(self, wanted, directory):
        self.wanted = wanted
        self.log_path = directory / "xvfb.log"
        self.proc = None
        self.display = None

    def __enter__(self):
        if not self.wanted:
            return self
        if shutil.which("Xvfb") is None:
            raise QemuCannotRun("Xvfb not found (Debian package xvfb): a virgl session needs it")
        read_end, write_end = os.pipe()
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24",
                                          "-nolisten", "tcp"], pass_fds=(write_end,), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        os.close(write_end)
        with os.fdopen(read_end) as numbers:
            number = numbers.readline().strip()
        if not number:
            self.proc.kill()
            self.proc.wait()
            raise TierError(f"Xvfb gave no display number; its log: {self.log_path.read_text()[-500:]}")
        self.display = f":{number}"
        return self

    def environment(self):
        env = dict(os.environ)
        if self.display:
            env["DISPLAY"] = self.display
            env.pop("WAYLAND_DISPLAY", None)
        return env

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Session:
    def __init__(self, args):
        self.name = args.session
        self.checks = [c for c in args.checks.split(",") if c]
        # A check named GROUP.NAME is recorded by the guest script GROUP.sh (one compositor
        # start serves several checks); the guest runs each group once, in order.
        self.groups = list(dict.fromkeys(c.split(".")[0] for c in self.checks))
        self.guest_env = dict(e.split("=", 1) for e in args.env)
        self.checks_dir = Path(args.checks_dir).resolve()
        self.source_root = Path(args.source_root).resolve()
        self.build_root = Path(args.build_root).resolve()
        self.dir = self.build_root / "tests" / "vm" / "sessions" / self.name
        self.out = self.dir / "out"
        self.timeout = float(os.environ.get("SYNCWAY_VM_TIMEOUT", args.timeout))
        self.check_timeout = int(os.environ.get("SYNCWAY_VM_CHECK_TIMEOUT", args.check_timeout))
        self.memory = args.memory
        self.cpus = args.cpus
        self.kernel_version = args.kernel
        self.gpu = args.gpu

    def qmp_path(self):
        # AF_UNIX paths are limited to 107 bytes; deep build dirs fall back to /tmp.
        path = self.dir / "qmp.sock"
        return path if len(str(path)) < 100 else Path(f"/tmp/syncway-vm-{os.getpid()}.qmp")

    def qemu_command(self, kernel, initrd):
        # no_timer_check: on a loaded host the emulated 8254 can miss the kernel's timer check
        # ("IO-APIC + timer doesn't work!" panic at boot).
        # -avx2: qemu 7.2's TCG gets AVX2 gathers with index register xmm4/ymm4 wrong (it takes
        # the SIB index 100 for "no index": lanes read the base address, or fault), and
        # llvmpipe's JIT samples textures with exactly that: GL programs crashed in the guest.
        # Without AVX2 llvmpipe fetches texels without gathers (README: "The guest CPU";
        # the guest-cpu check fails if the guest CPU offers a broken gather).
        # One guest CPU by default: with two, every fork, exec and exit in the guest makes TCG
        # synchronise both vCPUs for the TLB flush, and starting a process cost 2.5-4x more
        # (/bin/true 76 vs 261 ms, python3 0.96 vs 1.75 s on this host): the checks are shell
        # scripts that start hundreds of processes, so one CPU finishes sooner and burns less.
        # clocksource=hpet: TCG's guest TSC follows the host's, which on a virtual host can jump
        # (once by five days: every timeout in the guest fired at once). With two guest CPUs
        # the kernel found the TSCs unsynchronised and chose the HPET itself; with one it
        # trusted the TSC.
        append = ("console=ttyS0 panic=-1 oops=panic quiet loglevel=4 no_timer_check clocksource=hpet "
                  "rdinit=/init")
        return [
            QEMU, "-accel", "tcg,thread=multi", "-smp", str(self.cpus), "-cpu", "max,-avx2", "-m", self.memory,
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
            "-serial", f"file:{self.dir / 'console.log'}",
            "-qmp", f"unix:{self.qmp_path()},server=on,wait=off",
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs", f"local,path={self.out},mount_tag=out,security_model=none,multidevs=remap",
            # A second KMS device beside the kernel's vkms and vgem, and input for libinput.
            *self.gpu_options(),
            "-device", "virtio-tablet-pci,id=tablet", "-device", "virtio-keyboard-pci,id=keyboard",
        ]

    def gpu_options(self):
        if self.gpu == "virgl":
            # virtio-gpu with virgl: the guest's GL goes to virglrenderer in qemu, which renders
            # with the host's GL (llvmpipe here) in an SDL window on the session's own Xvfb
            # (qemu's egl-headless would need a host render node, which CI machines lack).
            return ["-device", "virtio-gpu-gl-pci", "-display", "sdl,gl=on"]
        return ["-device", "virtio-gpu-pci"]

    def write_plan(self):
        plan = {
            "VM_SESSION": self.name,
            "VM_CHECKS": " ".join(self.groups),
            "VM_CHECKS_DIR": str(self.checks_dir),
            "VM_GUEST_SCRIPT": str(HERE / "guest" / "run-checks.sh"),
            "VM_SOURCE_ROOT": str(self.source_root),
            "VM_BUILD_ROOT": str(self.build_root),
            "VM_CHECK_TIMEOUT": str(self.check_timeout),
        }
        plan.update(self.guest_env)
        (self.out / "plan.env").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in plan.items()))

    def boot(self):
        """Boots the VM and waits for it; the results are left in self.out. A boot that never
        reaches the guest's init (an emulation hiccup on a loaded host) is retried once."""
        wall = self.boot_once()
        if not (self.out / "boot-stamp").is_file():
            print(f"vm: session {self.name}: the guest did not reach its init; console tail:\n"
                  + self.console_tail(8) + "\nvm: booting once more", flush=True)
            wall += self.boot_once()
        return wall

    def boot_once(self):
        if shutil.which(QEMU) is None:
            raise QemuCannotRun(f"{QEMU} not found (Debian package qemu-system-x86)")
        kernel, how = find_kernel(self.kernel_version)
        initrd = initramfs(self.build_root / "tests" / "vm")
        shutil.rmtree(self.out, ignore_errors=True)
        (self.out / "results").mkdir(parents=True)
        (self.out / "input").mkdir()
        for stale in ("console.log", "qemu.log", "session.key", "wall-seconds"):
            (self.dir / stale).unlink(missing_ok=True)
        self.write_plan()
        # The other suites' tests, for groups that run them in the guest (guest/lib.sh).
        dump = subprocess.run(["/usr/bin/python3", str(HERE / "dump_suites.py"), str(self.build_root),
                               str(self.out / "suites")], capture_output=True, text=True)
        if dump.returncode != 0:
            print(f"vm: could not list the build's meson tests: {dump.stderr.strip()}", flush=True)
        cmd = self.qemu_command(kernel, initrd)
        print(f"vm: session {self.name}: kernel {kernel} ({how}); {len(self.checks)} checks", flush=True)
        for k, v in self.guest_env.items():
            print(f"vm: guest environment {k}={v}", flush=True)
        start = time.monotonic()
        with open(self.dir / "qemu.log", "w") as qlog, HostDisplay(self.gpu == "virgl", self.dir) as display:
            qlog.write(" ".join(shlex.quote(c) for c in cmd) + "\n")
            qlog.flush()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT,
                                    env=display.environment())
            relay = QmpInputRelay(self.qmp_path(), self.out / "input", lambda: proc.poll() is None)
            relay.start()
            try:
                rc = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
            relay.join(timeout=5)
            if relay.error:
                qlog.write(f"vm: input relay: {relay.error}\n")
        self.qmp_path().unlink(missing_ok=True)
        wall = time.monotonic() - start
        (self.dir / "wall-seconds").write_text(f"{wall:.2f}\n")
        console = self.dir / "console.log"
        booted = (self.out / "boot-stamp").is_file()
        if rc not in (0, None) and not booted and (not console.is_file() or console.stat().st_size == 0):
            raise QemuCannotRun(f"{QEMU} exited with {rc} before the guest started:\n"
                                + (self.dir / "qemu.log").read_text()[-2000:])
        if rc is None:
            print(f"vm: session {self.name} timed out after {self.timeout:.0f} s (SYNCWAY_VM_TIMEOUT)", flush=True)
        return wall

    def ensure(self, after=()):
        """Boots the session unless it already ran under this `meson test` invocation. Under
        meson, it first waits for the sessions named in `after` to end (their locks): two VMs
        already load both cores, and a third beside them pushed them past their time limit."""
        self.dir.mkdir(parents=True, exist_ok=True)
        key = meson_invocation()
        if key is not None:
            for name in after:
                other = self.dir.parent / name
                if other.is_dir():
                    with open(other / "lock", "a") as lock:
                        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(self.dir / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            key_file = self.dir / "session.key"
            already_ran = key is not None and key_file.is_file() and key_file.read_text() == key
            if not already_ran:
                self.boot_recording_verdict(key_file, key)
        if (self.dir / "skip-reason").is_file():
            raise QemuCannotRun((self.dir / "skip-reason").read_text())
        if (self.dir / "tier-error").is_file():
            raise TierError((self.dir / "tier-error").read_text())

    def boot_recording_verdict(self, key_file, key):
        for verdict in ("skip-reason", "tier-error"):
            (self.dir / verdict).unlink(missing_ok=True)
        try:
            self.boot()
        except QemuCannotRun as e:
            (self.dir / "skip-reason").write_text(str(e))
        except TierError as e:
            (self.dir / "tier-error").write_text(str(e))
        finally:
            # Written even when the boot failed, so the other checks report the same
            # outcome instead of booting again.
            key_file.write_text(key or "")

    def console_tail(self, lines=40):
        console = self.dir / "console.log"
        if not console.is_file():
            return "(no console log)"
        return "\n".join(console.read_text(errors="replace").splitlines()[-lines:])

    def report(self, check):
        """Prints one check's log and returns its exit status (0, 77 or 1)."""
        results = self.out / "results"
        status_file = results / f"{check}.status"
        group = check.split(".")[0]
        if group != check and not status_file.is_file() and (results / f"{group}.status").is_file():
            print(f"vm: check {check}: no result: its group script {group}.sh ended without recording it."
                  f" The group's log ({results / (group + '.log')}):")
            print((results / f"{group}.log").read_text(errors="replace")[-6000:])
            return 1
        if not status_file.is_file():
            why = "the guest never started it"
            if not (self.out / "boot-stamp").is_file():
                why = "the VM did not boot to its init"
            elif not (self.out / "guest-exit").is_file():
                why = "the VM stopped (timeout or crash) before the check finished"
            print(f"vm: check {check}: no result: {why}. Console tail ({self.dir / 'console.log'}):")
            print(self.console_tail())
            return 1
        log = results / f"{check}.log"
        if log.is_file():
            sys.stdout.write(log.read_text(errors="replace"))
        status = int(status_file.read_text().strip() or "1")
        if group != check:
            group_log = results / f"{group}.log"
            if status not in (0, SKIP) and group_log.is_file():
                print(f"--- the group's log ({group_log}), last lines:")
                print("\n".join(group_log.read_text(errors="replace").splitlines()[-60:]))
            log = group_log
        seconds_file = next((f for f in (results / f"{check}.seconds", results / f"{group}.seconds") if f.is_file()), None)
        seconds = seconds_file.read_text().strip() if seconds_file else "?"
        verdict = {0: "pass", SKIP: "skip"}.get(status, f"FAIL (exit {status}{', timed out' if status == 124 else ''})")
        print(f"vm: check {check}: {verdict} in {seconds} s (guest time); full log {log}")
        return 0 if status == 0 else SKIP if status == SKIP else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "run"], help="check: report one check; run: boot and summarise")
    parser.add_argument("name", nargs="?", help="the check to report (command check)")
    parser.add_argument("--session", required=True, help="session name (one boot; results under build/tests/vm/sessions/NAME)")
    parser.add_argument("--checks", required=True, help="comma-separated checks the session runs, in order")
    parser.add_argument("--checks-dir", default=str(HERE / "checks"), help="directory of the checks' guest scripts (NAME.sh)")
    parser.add_argument("--source-root", required=True)
    parser.add_argument("--build-root", required=True)
    parser.add_argument("--timeout", default="380", help="seconds for the whole boot (env SYNCWAY_VM_TIMEOUT)")
    parser.add_argument("--check-timeout", default="200", help="seconds per check inside the guest (env SYNCWAY_VM_CHECK_TIMEOUT)")
    parser.add_argument("--memory", default="2G", help="guest memory (qemu -m)")
    parser.add_argument("--cpus", type=int, default=1, help="guest CPUs (qemu -smp; see qemu_command)")
    parser.add_argument("--kernel", default="6.1", choices=sorted(select_kernel.VERSIONS),
                        help="which kernel the session boots (6.12: timeline syncobjs on virtio-gpu)")
    parser.add_argument("--gpu", default="virtio", choices=["virtio", "virgl"],
                        help="virtio: virtio-gpu without 3D (Mesa's kms_swrast in the guest); virgl: "
                             "virtio-gpu-gl, the guest's GL rendered by the host (needs Xvfb)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V",
                        help="extra environment for the guest checks (repeatable)")
    parser.add_argument("--after", action="append", default=[], metavar="SESSION",
                        help="(check, under meson) boot only once SESSION's boot has ended (repeatable)")
    args = parser.parse_args()
    session = Session(args)
    try:
        if args.command == "check":
            if args.name not in session.checks:
                print(f"vm: check {args.name!r} is not one of the session's checks: {session.checks}")
                return 1
            session.ensure(args.after)
            return session.report(args.name)
        session.dir.mkdir(parents=True, exist_ok=True)
        with open(session.dir / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            wall = session.boot()
        worst = 0
        for check in session.checks:
            worst = max(worst, 1 if session.report(check) == 1 else 0)
        print(f"vm: session {session.name}: {wall:.1f} s wall")
        return worst
    except QemuCannotRun as e:
        print(f"vm: SKIP: qemu cannot run here: {e}")
        return SKIP
    except TierError as e:
        print(f"vm: FAIL: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
