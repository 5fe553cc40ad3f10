# Benchmark (guest side, B9): syncway's CPU per presented frame on vkms (pixman) with its
# framebuffers from the dma-buf heap `system` (--buffer-heap system) beside DRM dumb buffers
# (--buffer-heap none, wlroots' allocator), same VM, same client: examples/explicit-sync-shm
# animating an 800x600 window (smaller than the output, so every frame is composited) for
# FRAMES frames. Each mode runs ROUNDS times, alternating. Writes key=value figures to
# $VM_RESULTS/$CHECK_NAME.figures.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
FRAMES=${BENCH_FRAMES:-240}
ROUNDS=${BENCH_ROUNDS:-2}
EXAMPLE=$BUILD_ROOT/examples/explicit-sync-shm
figures=$VM_RESULTS/$CHECK_NAME.figures
: > "$figures"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

run_mode() {
    local mode=$1 round=$2 arg
    if [ "$mode" = heap ]; then arg=system; else arg=none; fi
    KMS_ARGS="--buffer-heap $arg" kms_start vkms pixman
    kms_plane_wait primary has-fb 60 > /dev/null || vm_fail "$mode: syncway did not modeset"
    local source memory
    source=$(grep "framebuffers from" "$CHECK_TMP/syncway.log")
    memory=$("$VM_PROBE" plane-memory vkms primary | awk '{print $1}')
    vm_log "$mode round $round: ${source#*: }; primary plane ${memory}"
    if [ "$mode" = heap ] && [ "$memory" != exporter=system ]; then vm_fail "heap run without heap framebuffers: $memory"; fi
    if [ "$mode" = dumb ] && [ "$memory" = exporter=system ]; then vm_fail "dumb run with heap framebuffers"; fi
    # A warm-up client: first-use allocations (swapchain, textures) out of the figure.
    SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock \
        "$EXAMPLE" --frames 20 --size 800x600 > /dev/null 2>&1 || vm_fail "$mode: the warm-up client failed"
    local before after report presented
    before=$(cpu_ticks "$KMS_PID")
    report=$(SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock \
        "$EXAMPLE" --frames "$FRAMES" --size 800x600 --json 2> "$CHECK_TMP/example-$mode.err") ||
        vm_fail "$mode: explicit-sync-shm failed: $(tail -3 "$CHECK_TMP/example-$mode.err")"
    after=$(cpu_ticks "$KMS_PID")
    presented=$(json_field "$report" frames_presented)
    [ "${presented:-0}" -gt 0 ] || vm_fail "$mode: no frame presented: $report"
    local hz; hz=$(getconf CLK_TCK)
    echo "${mode}_${round}_ticks=$((after - before)) ${mode}_${round}_presented=$presented ${mode}_${round}_fps=$(json_field "$report" frames_per_second)" >> "$figures"
    echo "${mode}_${round}_cpu_ms_per_frame=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$presented" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')" >> "$figures"
    vm_cleanup
}

echo "frames=$FRAMES rounds=$ROUNDS" >> "$figures"
for round in $(seq "$ROUNDS"); do
    run_mode heap "$round"
    run_mode dumb "$round"
done
cat "$figures"
