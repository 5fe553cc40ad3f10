# Helpers for the VM tier's guest checks (sourced: `. "$VM_LIB"`). Runs inside the VM's chroot.
# Conventions: a check prints what it observes, calls vm_fail with the reason on the first
# wrong observation, and cleans up what it started (vm_cleanup runs on exit).

VM_PROBE=$BUILD_ROOT/tests/vm/vm-kernel-probe
VM_PIDS=()

vm_log() { echo "[$(awk '{print $1}' /proc/uptime)] $*"; }
vm_fail() { echo "FAIL: $*"; exit 1; }
vm_skip() { echo "SKIP: $*"; exit 77; }

# Stops what the check started (TERM, then KILL after 3 s), newest first.
vm_cleanup() {
    local pid i
    for ((i = ${#VM_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${VM_PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in {1..30}; do kill -0 "$pid" 2>/dev/null || break; vm_sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    VM_PIDS=()
}
trap vm_cleanup EXIT

# Records the result of the check GROUP.NAME (GROUP is this script's check name) without
# ending the script: vm_result NAME STATUS MESSAGE (0 pass, 77 skip, else fail).
vm_result() {
    local name=$CHECK_NAME.$1 status=$2 verdict
    shift 2
    case $status in 0) verdict=pass ;; 77) verdict=SKIP ;; *) verdict=FAIL ;; esac
    echo "$verdict: $*" >> "$VM_RESULTS/$name.log"
    echo "$status" > "$VM_RESULTS/$name.status"
    vm_log "[$name] $verdict: $*"
    [ "$status" = 0 ] || [ "$status" = 77 ] || VM_GROUP_FAILED=1
}
vm_pass() { local name=$1; shift; vm_result "$name" 0 "$@"; }
vm_failed() { local name=$1; shift; vm_result "$name" 1 "$@"; }
# Appends observations to the record of check GROUP.NAME (shown with its verdict).
vm_note() { local name=$CHECK_NAME.$1; shift; echo "$*" >> "$VM_RESULTS/$name.log"; vm_log "[$name] $*"; }
# The group's exit status: 1 if any vm_result failed.
vm_group_status() { return "${VM_GROUP_FAILED:-0}"; }

# Runs a command in the background and remembers it for vm_cleanup; its pid is in $VM_LAST_PID.
vm_spawn() {
    "$@" &
    VM_LAST_PID=$!
    VM_PIDS+=("$VM_LAST_PID")
}

# Sleeps $1 seconds (fractions allowed) without starting a process: under TCG each process
# start costs a tenth of a second or more, and the checks poll a lot. read times out on a pipe
# nobody writes (held open for reading and writing, so it never reaches end of file).
vm_sleep() {
    [ -n "${VM_SLEEP_FD:-}" ] || exec {VM_SLEEP_FD}<> <(:)
    read -r -t "$1" -u "$VM_SLEEP_FD" || true
}

# Waits until "$@" succeeds, up to $1 seconds (polling every 0.1 s).
vm_wait_for() {
    local timeout=$1; shift
    local deadline=$(( ${EPOCHREALTIME/./} + timeout * 1000000 ))
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
        vm_sleep 0.1
    done
}

# /dev/dri/cardN of a driver (vgem, vkms, virtio_gpu): card numbers are not stable.
vm_card() { "$VM_PROBE" card-for "$1"; }

# The kernel's atomic state of DRIVER's planes, one line each (see vm-kernel-probe planes).
vm_planes() { "$VM_PROBE" planes "$1"; }
vm_cursor_plane() { vm_planes "$1" | awk '$3 == "cursor"'; }
vm_primary_plane() { vm_planes "$1" | awk '$3 == "primary"'; }
# One field (fb, format, size, crtc-pos, ...) of such a line.
vm_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }


# Sends one input request (JSON, see qmp_input.py) through the host's QMP relay and waits up
# to TIMEOUT seconds until qemu has the events: vm_input_request JSON TIMEOUT.
vm_input_request() {
    local id dir=$VM_OUT/input answer
    id=${EPOCHREALTIME/./}-$RANDOM
    printf '%s' "$1" > "$dir/$id.tmp"
    mv "$dir/$id.tmp" "$dir/$id.req"
    vm_wait_for "$2" test -f "$dir/$id.done" || vm_fail "the host's QMP input relay did not answer"
    read -r answer < "$dir/$id.done"
    rm -f "$dir/$id.done"
    [ "$answer" = ok ] || vm_fail "qemu refused the input events: $answer"
}

# Moves the virtio tablet to (X, Y) in qemu's absolute range 0..32767 (the whole output
# layout) as one evdev frame.
vm_tablet_move() {
    vm_input_request "$(printf '[{"type":"abs","data":{"axis":"x","value":%d}},{"type":"abs","data":{"axis":"y","value":%d}}]' "$1" "$2")" 10
}

# Moves the tablet along COUNT points of a circle around the centre, INTERVAL ms apart, timed
# by the host (one request for the whole motion): vm_tablet_path COUNT INTERVAL_MS.
vm_tablet_path() {
    local points
    points=$(awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) {
        a = 6.2831853 * i / n; printf "%s[%d,%d]", (i ? "," : ""), 16384 + 9000 * cos(a), 16384 + 9000 * sin(a) } }')
    vm_input_request "{\"interval_ms\":$2,\"path\":[$points]}" $(( $1 * $2 / 1000 + 20 ))
}

# A private XDG_RUNTIME_DIR for the compositor and its clients.
vm_runtime_dir() {
    export XDG_RUNTIME_DIR=/run/user/0
    mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
}

# Runs the device-dependent tests of meson suites inside the VM, from the list the host wrote
# into $VM_OUT/suites/devices/SUITE.sh (see dump_suites.py): same commands, environment, time
# limits and expected failures as meson's. Prints one line per test; records GROUP.SUITE for
# each suite.
vm_suite_test() {
    local name=$1 should_fail=$2 limit=$3 workdir=$4 rc verdict t0 t1
    shift 4
    t0=${EPOCHREALTIME/./}  # microseconds, without a process (each costs time under TCG)
    (cd "$workdir" && timeout -k 5 $((limit * 3)) "$@") > "$CHECK_TMP/test.log" 2>&1
    rc=$?
    t1=${EPOCHREALTIME/./}
    if [ $rc = 77 ]; then verdict=SKIP
    elif [ $rc = 124 ] || [ $rc = 137 ]; then verdict=TIMEOUT
    elif [ "$should_fail" = 1 ]; then [ $rc != 0 ] && verdict=EXPECTEDFAIL || verdict=UNEXPECTEDPASS
    else [ $rc = 0 ] && verdict=OK || verdict=FAIL
    fi
    printf '%-34s %-14s exit %-3s %4d.%d s\n' "$VM_SUITE / $name" "$verdict" "$rc" \
        $(((t1 - t0) / 1000000)) $(((t1 - t0) / 100000 % 10))
    # gtest cases that skipped (a missing device or facility) are named, so a skip is seen.
    grep -E '^\[  SKIPPED \] [A-Za-z][^ ]*$' "$CHECK_TMP/test.log" | sed 's/^/    /'
    case $verdict in
        OK|EXPECTEDFAIL|SKIP) VM_SUITE_RAN=$((VM_SUITE_RAN + 1)) ;;
        *) VM_SUITE_BAD+=("$name ($verdict)"); tail -n 30 "$CHECK_TMP/test.log" ;;
    esac
}
vm_run_suites() {
    local suite list
    for suite in "$@"; do
        list=$VM_OUT/suites/devices/$suite.sh
        if [ ! -f "$list" ]; then
            vm_failed "$suite" "the host listed no tests of suite $suite ($list)"
            continue
        fi
        VM_SUITE=$suite VM_SUITE_RAN=0 VM_SUITE_BAD=()
        . "$list"
        if [ ${#VM_SUITE_BAD[@]} = 0 ]; then
            vm_pass "$suite" "meson suite $suite in the VM: $VM_SUITE_RAN tests ok"
        else
            vm_failed "$suite" "meson suite $suite in the VM: failed ${VM_SUITE_BAD[*]}"
        fi
    done
    vm_group_status
}
