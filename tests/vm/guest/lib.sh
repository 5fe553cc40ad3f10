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
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
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

# Waits until "$@" succeeds, up to $1 seconds (polling every 0.1 s).
vm_wait_for() {
    local timeout=$1; shift
    local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
    until "$@"; do
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.1
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


# Moves the virtio tablet to (X, Y) in qemu's absolute range 0..32767 (the whole output
# layout), through the host's QMP relay; waits until qemu has the events.
vm_tablet_move() {
    local id dir=$VM_OUT/input
    id=$(date +%s%N)-$RANDOM
    printf '[{"type":"abs","data":{"axis":"x","value":%d}},{"type":"abs","data":{"axis":"y","value":%d}}]' \
        "$1" "$2" > "$dir/$id.tmp"
    mv "$dir/$id.tmp" "$dir/$id.req"
    vm_wait_for 10 test -f "$dir/$id.done" || vm_fail "the host's QMP input relay did not answer"
    local answer
    answer=$(cat "$dir/$id.done")
    rm -f "$dir/$id.done"
    [ "$answer" = ok ] || vm_fail "qemu refused the tablet events: $answer"
}

# A private XDG_RUNTIME_DIR for the compositor and its clients.
vm_runtime_dir() {
    export XDG_RUNTIME_DIR=/run/user/0
    mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
}

# Runs meson suites of the (read-only) build dir inside the VM, in one meson invocation (its
# start-up costs ~20 s under TCG). meson test writes its logs into the build dir, so it runs
# from a tmpfs copy of the build's metadata (the tests' commands are absolute paths into the
# real build dir). Prints meson's report; records GROUP.SUITE for each suite from its JSON log.
vm_meson_suites() {
    local meta=/tmp/meson-suites args=() suite
    mkdir -p "$meta/meson-logs"
    cp -r "$BUILD_ROOT/meson-private" "$BUILD_ROOT/meson-info" "$BUILD_ROOT/build.ninja" "$meta/"
    for suite in "$@"; do args+=(--suite "$suite"); done
    /usr/bin/meson test -C "$meta" --no-rebuild "${args[@]}" --print-errorlogs --num-processes 2 \
        --timeout-multiplier 3
    for suite in "$@"; do
        local summary
        summary=$(python3 - "$meta/meson-logs/testlog.json" "$suite" <<'PY'
import json, sys
ran = [json.loads(line) for line in open(sys.argv[1])]
# Names read "project:suite / test".
mine = [t for t in ran if t["name"].split(" / ")[0].split(":")[-1] == sys.argv[2]]
bad = [f"{t['name']} ({t['result']})" for t in mine if t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP")]
print(("FAIL " if bad or not mine else "ok ") + f"{len(mine)} tests" + (": failed " + ", ".join(bad) if bad else ""))
PY
)
        case $summary in
            ok*) vm_pass "$suite" "meson suite $suite in the VM: ${summary#ok }" ;;
            *) vm_failed "$suite" "meson suite $suite in the VM: ${summary#FAIL }" ;;
        esac
    done
    vm_group_status
}
