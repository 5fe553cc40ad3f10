#!/bin/bash
# Runs inside the VM, chrooted into the host's root (read-only) with the kernel's own /dev,
# /proc, /sys, debugfs and tmpfs /tmp and /run. Runs every check of the session's plan in
# order, each in its own bash with a time limit, and writes NAME.status (exit code), NAME.log
# and NAME.seconds to the out share, which the host reads back.
set -u
results=/run/vm-out/results
mkdir -p "$results"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
export VM_OUT=/run/vm-out VM_RESULTS=$results
export SOURCE_ROOT=$VM_SOURCE_ROOT BUILD_ROOT=$VM_BUILD_ROOT
# Shared helpers for the checks (devices by driver name, compositor start/stop, ...).
export VM_LIB=$VM_SOURCE_ROOT/tests/vm/guest/lib.sh

echo "vm-guest: kernel $(uname -r), $(nproc) cpus, checks: $VM_CHECKS"

# udevd for the whole session, so libinput and wlroots see the virtio input devices and the
# DRM cards with their seat tags. systemd's tools refuse to work in a chroot unless told to.
export SYSTEMD_IGNORE_CHROOT=1
/usr/lib/systemd/systemd-udevd > /tmp/udevd.log 2>&1 &
udevd=$!
for _ in $(seq 100); do [ -S /run/udev/control ] && break; sleep 0.1; done
udevadm trigger --action=add && udevadm settle --timeout=30 ||
    echo "vm-guest: udev did not settle: $(cat /tmp/udevd.log)"
for check in $VM_CHECKS; do
    script=$VM_CHECKS_DIR/$check.sh
    start=$(date +%s.%N)
    if [ ! -f "$script" ]; then
        echo "no guest script $script for check $check" > "$results/$check.log"
        status=1
    else
        # Each check gets a scratch dir of its own; -k kills what ignores TERM.
        export CHECK_NAME=$check CHECK_TMP=/tmp/vm-check-$check
        mkdir -p "$CHECK_TMP"
        (cd "$CHECK_TMP" && timeout -k 5 "$VM_CHECK_TIMEOUT" bash "$script") > "$results/$check.log" 2>&1 < /dev/null
        status=$?
        [ "$status" = 124 ] && echo "check $check: timed out after $VM_CHECK_TIMEOUT s" >> "$results/$check.log"
    fi
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }' > "$results/$check.seconds"
    echo "$status" > "$results/$check.status"
    echo "vm-guest: $check -> $status ($(cat "$results/$check.seconds") s)"
done
kill "$udevd" 2>/dev/null
sync
