# Benchmark (guest side): syncway on vkms with pixman, a client on screen; CPU time syncway
# spends per cursor move, hardware cursor plane vs forced software cursor (WLR_NO_HARDWARE_CURSORS),
# same VM, same motion path; and the guest's uptime at the first presented client frame.
# Writes key=value figures to $VM_RESULTS/$CHECK_NAME.figures.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
MOVES=${BENCH_MOVES:-300}
INTERVAL_MS=${BENCH_INTERVAL_MS:-20}
figures=$VM_RESULTS/$CHECK_NAME.figures
: > "$figures"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run_mode() {
    local mode=$1
    if [ "$mode" = software ]; then export WLR_NO_HARDWARE_CURSORS=1; else unset WLR_NO_HARDWARE_CURSORS; fi
    kms_start vkms pixman
    kms_plane_wait primary has-fb 60 > /dev/null || vm_fail "$mode: syncway did not modeset"
    "$SOLID_CLIENT" > "$CHECK_TMP/client-$mode.log" 2>&1 &
    local client=$!
    VM_PIDS+=("$client")
    vm_wait_for 60 grep -q presented "$CHECK_TMP/client-$mode.log" || vm_fail "$mode: no client frame"
    [ "$mode" = hardware ] && echo "first_frame_uptime_s=$(awk '{print $1}' /proc/uptime)" >> "$figures"
    vm_tablet_move 16384 16384
    local plane
    plane=$(kms_plane_wait cursor has-fb 8) && echo "${mode}_cursor_plane=yes" >> "$figures" ||
        echo "${mode}_cursor_plane=no" >> "$figures"
    vm_log "$mode cursor: $plane"
    vm_tablet_path 20 "$INTERVAL_MS"   # warm-up: first-use allocations out of the figure
    local before after
    before=$(cpu_ticks "$KMS_PID")
    vm_tablet_path "$MOVES" "$INTERVAL_MS"
    after=$(cpu_ticks "$KMS_PID")
    local hz; hz=$(getconf CLK_TCK)
    echo "${mode}_cpu_ms_per_move=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$MOVES" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')" >> "$figures"
    echo "${mode}_cpu_ticks=$((after - before))" >> "$figures"
    vm_cleanup
}

echo "moves=$MOVES" >> "$figures"
echo "interval_ms=$INTERVAL_MS" >> "$figures"
run_mode hardware
run_mode software
cat "$figures"
