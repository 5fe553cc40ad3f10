# Benchmark (guest side, B9): syncway's CPU per presented frame on vkms (pixman) with its
# framebuffers from the dma-buf heap `system` (--buffer-heap system) beside DRM dumb buffers
# (--buffer-heap none, wlroots' allocator), same VM, same client: examples/explicit-sync-shm
# animating an 800x600 window (smaller than the output, so every frame is composited) for
# FRAMES frames. Each mode runs ROUNDS times, alternating. Writes key=value figures to
# $VM_RESULTS/$CHECK_NAME.figures.
# The scan-out half (B9, direct scan-out): heap framebuffers both times, a client whose window
# is a full-output opaque dma-buf from the `system` heap (examples/explicit-sync-tiles --buffer
# dmabuf at the mode's size, one thread, --load 1) for SCANOUT_FRAMES frames, with
# --direct-scanout auto (mode `scanout`: the plane shows the client's buffers) and off (mode
# `composite`), alternating with each other in the same rounds.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
FRAMES=${BENCH_FRAMES:-240}
ROUNDS=${BENCH_ROUNDS:-2}
SCANOUT_FRAMES=${BENCH_SCANOUT_FRAMES:-120}
EXAMPLE=$BUILD_ROOT/examples/explicit-sync-shm
TILES=$BUILD_ROOT/examples/explicit-sync-tiles
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

# The scan-out half: MODE scanout or composite.
run_scanout_mode() {
    local mode=$1 round=$2 arg
    if [ "$mode" = scanout ]; then arg=auto; else arg=off; fi
    KMS_ARGS="--buffer-heap system --direct-scanout $arg" kms_start vkms pixman
    kms_plane_wait primary has-fb 60 > /dev/null || vm_fail "$mode: syncway did not modeset"
    local w h; read -r w h <<<"$(kms_mode_size)"
    local socket=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock
    local client=(--buffer dmabuf --size "${w}x${h}" --threads 1 --load 1)
    SYNCWAY_SYNCOBJ_SOCKET=$socket "$TILES" "${client[@]}" --frames 10 > /dev/null 2> "$CHECK_TMP/tiles-warm.err" ||
        vm_fail "$mode: the warm-up client failed: $(tail -3 "$CHECK_TMP/tiles-warm.err")"
    local before after report presented memory
    before=$(cpu_ticks "$KMS_PID")
    SYNCWAY_SYNCOBJ_SOCKET=$socket "$TILES" "${client[@]}" --frames "$SCANOUT_FRAMES" --json \
        > "$CHECK_TMP/tiles-$mode.json" 2> "$CHECK_TMP/tiles-$mode.err" &
    local pid=$!
    # Midway, what the primary plane shows: the client's dma-buf (named after the program) or
    # syncway's composite.
    sleep 3
    memory=$("$VM_PROBE" plane-memory vkms primary | awk '{print $2}')
    wait "$pid" || vm_fail "$mode: explicit-sync-tiles failed: $(tail -3 "$CHECK_TMP/tiles-$mode.err")"
    after=$(cpu_ticks "$KMS_PID")
    report=$(cat "$CHECK_TMP/tiles-$mode.json")
    vm_log "$mode round $round: ${w}x${h}, primary plane midway ${memory}"
    if [ "$mode" = scanout ] && [ "$memory" != name=explicit-sync-tiles ]; then vm_fail "scanout run without scan-out: plane $memory; $(grep -i scan-out "$CHECK_TMP/syncway.log" | tail -2)"; fi
    if [ "$mode" = composite ] && [ "$memory" != name=syncway-framebuffer ]; then vm_fail "composite run with the plane showing $memory"; fi
    presented=$(json_field "$report" frames_presented)
    [ "${presented:-0}" -gt 0 ] || vm_fail "$mode: no frame presented: $report"
    local hz; hz=$(getconf CLK_TCK)
    echo "${mode}_${round}_ticks=$((after - before)) ${mode}_${round}_presented=$presented ${mode}_${round}_fps=$(json_field "$report" frames_per_second)" >> "$figures"
    echo "${mode}_${round}_cpu_ms_per_frame=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$presented" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')" >> "$figures"
    vm_cleanup
}

HALVES=${BENCH_HALVES:-framebuffers scanout}
echo "frames=$FRAMES scanout_frames=$SCANOUT_FRAMES rounds=$ROUNDS halves=${HALVES// /,}" >> "$figures"
for round in $(seq "$ROUNDS"); do
    if [[ " $HALVES " == *" framebuffers "* ]]; then
        run_mode heap "$round"
        run_mode dumb "$round"
    fi
    if [[ " $HALVES " == *" scanout "* ]]; then
        run_scanout_mode scanout "$round"
        run_scanout_mode composite "$round"
    fi
done
cat "$figures"
