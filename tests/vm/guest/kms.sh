# KMS checks shared by the kms-* groups (sourced after lib.sh): syncway on one DRM card with
# one renderer, a client of known colour, the virtio tablet, and the kernel's atomic state.
# Sub-checks (GROUP.NAME): modeset, frame, cursor-plane, cursor-follows, cursor-primary-idle,
# client-cursor, cursor-sync, client-cursor-dmabuf (the last three with pixman only);
# dmabuf-fenced-release (checks/kms-virgl.sh).

SYNCWAY=${SYNCWAY:-$BUILD_ROOT/compositor/syncway}
SOLID_CLIENT=$BUILD_ROOT/tests/vm/vm-solid-client
KMS_SOCKET=vm-kms
CLIENT_RGB=3366cc

# The primary or cursor plane line of DRIVER (see vm-kernel-probe planes).
kms_plane() { vm_planes "$KMS_DRIVER" | awk -v t="$1" '$3 == t'; }
kms_fb() { vm_field "$(kms_plane "$1")" fb; }
# Waits (in one process) until DRIVER's TYPE plane meets CONDITION; prints its state line.
kms_plane_wait() { "$VM_PROBE" plane-wait "$KMS_DRIVER" "$@"; }
# "X Y" of a plane line's crtc-pos (WxH+X+Y).
kms_xy_of() { vm_field "$1" crtc-pos | sed 's/.*+\(-\{0,1\}[0-9]*\)+\(-\{0,1\}[0-9]*\)$/\1 \2/'; }

# The mode's size from the primary plane's crtc-pos (WxH+0+0) as "W H".
kms_mode_size() { vm_field "$(kms_plane primary)" crtc-pos | sed 's/^\([0-9]*\)x\([0-9]*\)+.*/\1 \2/'; }

# RGB hex of the screenshot's pixel at (X, Y), via grim against syncway's screencopy.
kms_screenshot_pixel() {
    grim -t ppm "$CHECK_TMP/shot.ppm" || return 1
    python3 - "$CHECK_TMP/shot.ppm" "$1" "$2" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
magic, size, maxval, pixels = data.split(b"\n", 3)
w, h = map(int, size.split())
x, y = int(sys.argv[2]), int(sys.argv[3])
i = (y * w + x) * 3
print(pixels[i:i + 3].hex())
PY
}

# Starts syncway on DRIVER's card with RENDERER; fails the group if it does not listen.
kms_start() {
    KMS_DRIVER=$1 KMS_RENDERER=$2
    local card
    card=$(vm_card "$KMS_DRIVER") || vm_fail "no DRM card driven by $KMS_DRIVER"
    vm_runtime_dir
    export WLR_DRM_DEVICES=$card LIBSEAT_BACKEND=builtin
    # gles2 on Mesa's software GL needs wlroots' consent; KMS_ALLOW_SOFTWARE_GL=0 starts syncway
    # as a user would (checks/kms-virtio-auto.sh).
    if [ "${KMS_ALLOW_SOFTWARE_GL:-1}" = 1 ]; then
        export WLR_RENDERER_ALLOW_SOFTWARE=1
    else
        unset WLR_RENDERER_ALLOW_SOFTWARE
    fi
    # A cursor theme of one image (Adwaita's arrow): loading a whole theme file by file over
    # 9p costs seconds under TCG, and one known image keeps the cursor plane's content fixed.
    mkdir -p /tmp/vm-icons/vm-test/cursors
    cp /usr/share/icons/Adwaita/cursors/left_ptr /tmp/vm-icons/vm-test/cursors/left_ptr
    ln -sf left_ptr /tmp/vm-icons/vm-test/cursors/default
    export XCURSOR_PATH=/tmp/vm-icons XCURSOR_THEME=vm-test XCURSOR_SIZE=24
    vm_log "syncway --backend drm --renderer $KMS_RENDERER on $card ($KMS_DRIVER)"
    KMS_T0=$(awk '{print $1}' /proc/uptime)
    rm -f "$XDG_RUNTIME_DIR/$KMS_SOCKET" "$XDG_RUNTIME_DIR/$KMS_SOCKET.lock"
    # KMS_ARGS: more options (e.g. --output), split on spaces.
    vm_spawn "$SYNCWAY" ${KMS_VERBOSE:+-v} --backend drm --renderer "$KMS_RENDERER" --socket "$KMS_SOCKET" ${KMS_ARGS:-} > "$CHECK_TMP/syncway.log" 2>&1
    KMS_PID=$VM_LAST_PID
    vm_wait_for 60 kms_listening_or_dead
    if ! kill -0 "$KMS_PID" 2>/dev/null; then
        tail -40 "$CHECK_TMP/syncway.log"
        vm_fail "syncway ($SYNCWAY) exited during start-up"
    fi
    if ! test -S "$XDG_RUNTIME_DIR/$KMS_SOCKET"; then
        tail -40 "$CHECK_TMP/syncway.log"
        vm_fail "syncway did not listen on $KMS_SOCKET within 60 s"
    fi
    export WAYLAND_DISPLAY=$KMS_SOCKET
}

# client-cursor and cursor-sync: a second client (a window of its own over the whole output)
# sets a 32x32 cursor surface of a known colour whose commits carry linux-drm-syncobj-v1 points,
# driven through its stdin (vm-solid-client --commands). The pixels of the framebuffer on the
# cursor plane are read back with GETFB2 + MAP_DUMB (vm-kernel-probe plane-pixel).
CURSOR_ARGB=ff22cc88 CURSOR_ARGB2=ffcc4422 CURSOR_ARGB3=ff4488ee
kms_cursor_pixel() { "$VM_PROBE" plane-pixel "$KMS_DRIVER" cursor 1 1 "$@"; }
kms_cursor_client_says() { vm_wait_for "$1" grep -q "$2" "$CHECK_TMP/cursor-client.log"; }
kms_client_cursor() {
    local fifo=$CHECK_TMP/cursor-client.in got
    mkfifo "$fifo"
    # The service syncway hosts (its children get the socket in the environment; this one is not).
    SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock \
        "$SOLID_CLIENT" --color ff884422 --cursor-color "$CURSOR_ARGB" --cursor-sync --commands \
        < "$fifo" > "$CHECK_TMP/cursor-client.log" 2>&1 &
    VM_PIDS+=($!)
    exec 7> "$fifo"  # the client's commands; open until the group ends
    if ! kms_cursor_client_says 30 presented; then
        vm_failed client-cursor "the cursor client's window was not presented: $(cat "$CHECK_TMP/cursor-client.log")"
        vm_failed cursor-sync "no cursor client"; return
    fi
    vm_tablet_move 15000 15000
    if ! kms_cursor_client_says 10 "cursor set"; then
        vm_failed client-cursor "the pointer never entered the cursor client's window: $(cat "$CHECK_TMP/cursor-client.log")"
        vm_failed cursor-sync "no cursor client"; return
    fi
    if got=$(kms_cursor_pixel "$CURSOR_ARGB" 5) && kms_cursor_client_says 5 "cursor frame done"; then
        vm_pass client-cursor "the cursor plane shows the client's cursor surface: pixel (1,1) #$got; the surface got frame done"
    else
        vm_failed client-cursor "the cursor plane's pixel (1,1) is not the client's #$CURSOR_ARGB: ${got:-nothing read}; client: $(tail -3 "$CHECK_TMP/cursor-client.log" | tr '\n' ' '); syncway: $(grep -i cursor "$CHECK_TMP/syncway.log" | tail -2)"
        vm_failed cursor-sync "no client cursor on the plane to start from"; return
    fi

    # cursor-sync: a new colour committed with an unsignaled acquire point stays off the plane
    # through three presented frames, reaches it once signaled, and the
    # replaced buffer's release point is signaled then, not before.
    echo "hold $CURSOR_ARGB2" >&7
    kms_cursor_client_says 5 "cursor $CURSOR_ARGB2 committed" || { vm_failed cursor-sync "the client did not commit: $(tail -3 "$CHECK_TMP/cursor-client.log")"; return; }
    # Three presented frames of the client's window (each an atomic commit of the output).
    echo "frames 3" >&7
    kms_cursor_client_says 10 "frames done" || { vm_failed cursor-sync "the client's window presented no 3 frames in 10 s"; return; }
    got=$(kms_cursor_pixel)
    if [ "${got%% *}" != "$CURSOR_ARGB" ]; then
        vm_failed cursor-sync "the cursor plane shows #$got while the commit's acquire point is unsignaled (expected the old #$CURSOR_ARGB)"; return
    fi
    echo "release 1" >&7
    kms_cursor_client_says 5 "release 1 " || { vm_failed cursor-sync "the client does not answer"; return; }
    if grep -q "release 1 signaled" "$CHECK_TMP/cursor-client.log"; then
        vm_failed cursor-sync "the shown buffer's release point 1 was signaled while it was still on the plane"; return
    fi
    echo signal >&7
    if ! got=$(kms_cursor_pixel "$CURSOR_ARGB2" 5); then
        vm_failed cursor-sync "5 s after the acquire point was signaled the cursor plane shows #$got, not #$CURSOR_ARGB2"; return
    fi
    local released=0
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        echo "release 1" >&7; vm_sleep 0.3
        grep -q "release 1 signaled" "$CHECK_TMP/cursor-client.log" && { released=1; break; }
    done
    if [ $released = 1 ]; then
        vm_pass cursor-sync "held through three presented frames with #$CURSOR_ARGB on the plane; after the signal #$got; the replaced buffer's release point signaled"
    else
        vm_failed cursor-sync "the new colour is on the plane, but the replaced buffer's release point 1 is still unsignaled: $(tail -2 "$CHECK_TMP/cursor-client.log")"
    fi
}

# client-cursor-dmabuf: the cursor client commits a linux-dmabuf buffer (a dma-buf from a heap
# or udmabuf, syncway's own linux-dmabuf) of a third colour: it reaches the plane too.
kms_client_cursor_dmabuf() {
    local got
    if ! grep -q "cursor set" "$CHECK_TMP/cursor-client.log" 2>/dev/null; then
        vm_failed client-cursor-dmabuf "no cursor client whose cursor is set"; return
    fi
    echo "dmabuf-cursor $CURSOR_ARGB3" >&7
    if ! kms_cursor_client_says 10 "cursor $CURSOR_ARGB3 committed"; then
        vm_failed client-cursor-dmabuf "the client committed no dma-buf cursor: $(tail -3 "$CHECK_TMP/cursor-client.log" | tr '\n' ' ')"; return
    fi
    if got=$(kms_cursor_pixel "$CURSOR_ARGB3" 5); then
        vm_pass client-cursor-dmabuf "$(grep "cursor $CURSOR_ARGB3 committed" "$CHECK_TMP/cursor-client.log"); the cursor plane's pixel (1,1) #$got"
    else
        vm_failed client-cursor-dmabuf "the cursor plane's pixel (1,1) is #$got, not the dma-buf cursor's #$CURSOR_ARGB3; syncway: $(grep -i cursor "$CHECK_TMP/syncway.log" | tail -2)"
    fi
}

# dmabuf-fenced-release (gles2 with a render node: checks/kms-virgl.sh): wlroots' gles2 lets go
# of a dma-buf once the frame sampling it is flushed, not once the GPU has read it, so syncway
# signals such a buffer's linux-drm-syncobj-v1 release point only after every fence in the
# dma-buf (FencedRelease in compositor/protocols/linux_drm_syncobj_v1.cpp). A client shows a
# GBM buffer A of virgl (linux-dmabuf, imported by gles2 on virgl;
# acquire and release point 1), puts an unsignaled sw_sync fence into A as a read fence
# (DMA_BUF_IOCTL_IMPORT_SYNC_FILE: a GPU still sampling A) and replaces A with B (point 2): B is
# shown, A's release point must stay pending while the fence is, and be signaled promptly after.
FENCED_A=aa3355 FENCED_B=55aa33
kms_fenced_says() { vm_wait_for "$1" grep -q "$2" "$CHECK_TMP/fenced-client.log"; }
kms_fenced_frames() { [ "$(grep -c "window frame done" "$CHECK_TMP/fenced-client.log")" -ge "$1" ]; }
kms_fenced_client_tail() { tail -4 "$CHECK_TMP/fenced-client.log" | tr '\n' ' '; }
kms_dmabuf_fenced_release() {
    local name=dmabuf-fenced-release fifo=$CHECK_TMP/fenced-client.in px pid
    mkfifo "$fifo"
    SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock \
        "$SOLID_CLIENT" --color ff778899 --window-sync "$KMS_DRIVER" --commands < "$fifo" > "$CHECK_TMP/fenced-client.log" 2>&1 &
    pid=$!
    VM_PIDS+=("$pid")
    exec 8> "$fifo"
    if ! kms_fenced_says 30 presented; then
        vm_failed $name "the client's first frame was not presented: $(kms_fenced_client_tail)"; return
    fi
    echo "gbm-window ff$FENCED_A" >&8
    if ! vm_wait_for 10 kms_fenced_frames 1; then
        vm_failed $name "the dma-buf A was not presented within 10 s: $(kms_fenced_client_tail); syncway: $(grep -i "dmabuf\|dma-buf\|EGL\|syncobj" "$CHECK_TMP/syncway.log" | tail -3 | tr '\n' ' ')"; return
    fi
    px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
    [ "$px" = "$FENCED_A" ] || { vm_failed $name "A presented, but the screenshot's centre pixel is #$px, expected #$FENCED_A"; return; }
    vm_note $name "$(grep "window ff$FENCED_A committed" "$CHECK_TMP/fenced-client.log"); shown: centre pixel #$px"
    echo fence-window >&8
    kms_fenced_says 5 "window fence attached" || { vm_failed $name "no read fence in A: $(kms_fenced_client_tail)"; return; }
    echo "gbm-window ff$FENCED_B" >&8
    if ! vm_wait_for 10 kms_fenced_frames 2; then
        vm_failed $name "B was not presented within 10 s of replacing A: $(kms_fenced_client_tail)"; return
    fi
    px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
    [ "$px" = "$FENCED_B" ] || { vm_failed $name "B presented, but the screenshot's centre pixel is #$px, expected #$FENCED_B"; return; }
    # B's frame and a screenshot's frame have been rendered since A was replaced: wlroots has
    # let go of A by now (without FencedRelease its release point would be signaled here).
    vm_sleep 1
    echo "release 1" >&8
    kms_fenced_says 5 "release 1 " || { vm_failed $name "the client does not answer: $(kms_fenced_client_tail)"; return; }
    if ! grep -q "release 1 pending" "$CHECK_TMP/fenced-client.log"; then
        vm_failed $name "A's release point 1 was not pending while A's read fence was unsignaled: $(kms_fenced_client_tail)"; return
    fi
    echo signal-window-fence >&8
    echo "wait-release 1" >&8
    kms_fenced_says 10 "release 1 signaled .* after\|release 1 not signaled\|signal-window-fence failed" ||
        { vm_failed $name "the client does not answer: $(kms_fenced_client_tail)"; return; }
    local verdict
    verdict=$(grep "release 1 signaled .* after\|release 1 not signaled\|signal-window-fence failed" "$CHECK_TMP/fenced-client.log")
    if [[ "$verdict" == "release 1 signaled"* ]]; then
        vm_pass $name "B shown (centre pixel #$px); A's release point 1 stayed pending while its read fence was unsignaled and was ${verdict#release 1 }"
    else
        vm_failed $name "after A's read fence: $verdict"
    fi
    exec 8>&-
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}

kms_listening_or_dead() { test -S "$XDG_RUNTIME_DIR/$KMS_SOCKET" || ! kill -0 "$KMS_PID" 2>/dev/null; }

kms_log_tail() { echo "--- syncway log (last lines):"; tail -n "${1:-25}" "$CHECK_TMP/syncway.log"; }

# cursor-fault: the kernel's fault injection, limited to syncway's atomic commits: syncway runs
# with libvm-ioctl-fault.so preloaded, which arms fail-nth around exactly one atomic commit
# (DRM_IOCTL_MODE_ATOMIC) when asked, so the Nth kernel allocation of the commit carrying a
# cursor move fails, for N = 1, 2, 3, 5, 8 in turn (failslab and fail_page_alloc, sleeping
# allocations included). Each injected failure must show as a failed commit (ENOMEM) or be
# absorbed by the kernel; syncway must survive, put the cursor plane where the pointer is
# (retrying the failed update), and keep presenting.
KMS_FAULT_LIB=$BUILD_ROOT/tests/vm/libvm-ioctl-fault.so
kms_fault_logged() { [ "$(cat "$KMS_FAULT_DIR/log" 2>/dev/null | wc -l)" -gt "$1" ]; }
# Waits up to 5 s until the cursor plane's top-left is within 64 px above-left of (X, Y)
# (the pointer minus the hotspot; 2 px of rounding either way); prints the plane.
kms_cursor_near() {
    local deadline=$(( ${EPOCHSECONDS} + 5 )) plane x y
    while :; do
        plane=$(kms_plane cursor)
        read -r x y <<<"$(kms_xy_of "$plane")"
        if [ "$(vm_field "$plane" fb)" != 0 ] && [ $(($1 - x)) -ge -2 ] && [ $(($1 - x)) -le 66 ] &&
            [ $(($2 - y)) -ge -2 ] && [ $(($2 - y)) -le 66 ]; then echo "$plane"; return 0; fi
        [ "$EPOCHSECONDS" -lt "$deadline" ] || { echo "$plane"; return 1; }
        vm_sleep 0.1
    done
}
kms_cursor_fault() {
    local had_plane=$1 dbg=/sys/kernel/debug n lines line ax ay injected=0 enomem=0 stuck="" died="" cursor
    if [ ! -f "$KMS_FAULT_LIB" ] || [ ! -w /proc/self/fail-nth ]; then
        vm_failed cursor-fault "no $KMS_FAULT_LIB or no fail-nth (CONFIG_FAULT_INJECTION)"; return
    fi
    # By default failslab and fail_page_alloc spare allocations that may sleep (most of them).
    for f in failslab fail_page_alloc; do
        echo N > "$dbg/$f/ignore-gfp-wait"; echo 0 > "$dbg/$f/verbose"
    done
    for n in 1 2 3 5 8; do
        lines=$(cat "$KMS_FAULT_DIR/log" 2>/dev/null | wc -l)
        echo "$n" > "$KMS_FAULT_DIR/arm.tmp"; mv "$KMS_FAULT_DIR/arm.tmp" "$KMS_FAULT_DIR/arm"
        ax=$((6000 + n * 900)) ay=$((7000 + n * 600))
        vm_tablet_move $ax $ay
        if ! vm_wait_for 5 kms_fault_logged "$lines"; then
            rm -f "$KMS_FAULT_DIR/arm"
            vm_note cursor-fault "fail-nth $n: no atomic commit followed the cursor move within 5 s"; continue
        fi
        line=$(tail -1 "$KMS_FAULT_DIR/log")
        case $line in *injected*) injected=$((injected + 1)) ;; esac
        case $line in *"ioctl -1 ENOMEM"*) enomem=$((enomem + 1)) ;; esac
        kill -0 "$KMS_PID" 2>/dev/null || { died=$n; break; }
        # The failed cursor update must not stick: the plane reaches the pointer.
        if [ "$had_plane" = 1 ] && ! cursor=$(kms_cursor_near $((ax * mode_w / 32768)) $((ay * mode_h / 32768))); then
            stuck="$stuck $n"
            vm_note cursor-fault "$line; the cursor plane did not reach the pointer: $cursor"
        else
            vm_note cursor-fault "$line; cursor plane at $(kms_xy_of "$(kms_plane cursor)")"
        fi
    done
    for f in failslab fail_page_alloc; do echo Y > "$dbg/$f/ignore-gfp-wait"; done
    local failed_commits
    failed_commits=$(grep -c "Atomic commit failed.*Cannot allocate memory" "$CHECK_TMP/syncway.log")
    vm_note cursor-fault "$injected injected failures inside atomic commits, $enomem made the commit fail with ENOMEM; syncway logged $failed_commits failed commits (ENOMEM)"
    if [ -n "$died" ]; then
        vm_failed cursor-fault "syncway died after its atomic commit failed allocation number $died"
        kms_log_tail; return
    fi
    [ "$injected" -gt 0 ] || { vm_failed cursor-fault "no injected failure was reached inside an atomic commit (fault injection inactive?)"; return; }
    [ "$enomem" -gt 0 ] && [ "$failed_commits" -gt 0 ] ||
        { vm_failed cursor-fault "no atomic commit failed with ENOMEM (ioctl: $enomem, syncway's log: $failed_commits)"; return; }
    [ -z "$stuck" ] || { vm_failed cursor-fault "after the failed commits (fail-nth$stuck) the cursor plane did not reach the pointer"; return; }
    local px
    "$SOLID_CLIENT" --color ff22aa44 > "$CHECK_TMP/client2.log" 2>&1 &
    VM_PIDS+=($!)
    if ! vm_wait_for 30 grep -q presented "$CHECK_TMP/client2.log"; then
        vm_failed cursor-fault "after the faults a new client's frame was not presented within 30 s: $(cat "$CHECK_TMP/client2.log")"; return
    fi
    px=$(kms_screenshot_pixel $((mode_w * 3 / 4)) $((mode_h * 3 / 4)))
    [ "$px" = 22aa44 ] || { vm_failed cursor-fault "after the faults a new client presented but the screen shows #$px, not #22aa44"; return; }
    if [ "$had_plane" = 1 ]; then
        vm_tablet_move 20000 20000
        if cursor=$(kms_cursor_near $((20000 * mode_w / 32768)) $((20000 * mode_h / 32768))); then
            vm_pass cursor-fault "$enomem atomic commits failed with ENOMEM; syncway survived, retried every cursor update, still presents; the plane follows: $cursor"
        else
            vm_failed cursor-fault "after the faults the cursor plane does not follow the pointer: $cursor"
        fi
    elif grep -qi "software" "$CHECK_TMP/syncway.log"; then
        vm_pass cursor-fault "survived, still presenting; the cursor is in software: $(grep -i software "$CHECK_TMP/syncway.log" | tail -1)"
    else
        vm_failed cursor-fault "no cursor plane and syncway did not say it draws the cursor in software"
    fi
}

kms_checks() {
    local output_check=(${KMS_OUTPUT_CHECK:-})
    local KMS_ARGS=${output_check[0]:+--output ${output_check[0]}}
    if [ "${3:-}" = fault ]; then
        KMS_FAULT_DIR=$CHECK_TMP/atomic-fault
        mkdir -p "$KMS_FAULT_DIR"
        LD_PRELOAD=$KMS_FAULT_LIB SYNCWAY_VM_IOCTL_FAULT=$KMS_FAULT_DIR SYNCWAY_VM_IOCTL_FAULT_ON=atomic kms_start "$1" "$2"
    else
        kms_start "$1" "$2"
    fi

    # modeset: syncway enabled the connector and scans out its own framebuffer.
    local primary
    primary=$(kms_plane_wait primary has-fb 60)
    if [ "$(vm_field "$primary" allocated-by)" = syncway ]; then
        vm_pass modeset "primary plane: $primary"
    else
        vm_failed modeset "no framebuffer of syncway's on the primary plane after 60 s: $primary"
        kms_log_tail
        vm_group_status; return
    fi
    read -r mode_w mode_h <<<"$(kms_mode_size)"
    [ ${#output_check[@]} = 3 ] && kms_output_verdict output-mode "${output_check[@]}"

    # frame: a client's frame is presented and the screen shows its colour.
    "$SOLID_CLIENT" --color "ff$CLIENT_RGB" > "$CHECK_TMP/client.log" 2>&1 &
    VM_PIDS+=($!)
    if vm_wait_for 60 grep -q presented "$CHECK_TMP/client.log"; then
        local t1 px
        t1=$(awk '{print $1}' /proc/uptime)
        echo "$(awk -v a="$KMS_T0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')" > "$VM_RESULTS/$CHECK_NAME.first-frame-seconds"
        px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
        if [ "$px" = "$CLIENT_RGB" ]; then
            vm_pass frame "client presented ($(cat "$CHECK_TMP/client.log")); screenshot centre pixel #$px"
        else
            vm_failed frame "client presented, but the screenshot's centre pixel is #$px, expected #$CLIENT_RGB"
        fi
    else
        vm_failed frame "the client's first frame was not presented within 60 s: $(cat "$CHECK_TMP/client.log")"
    fi

    # cursor-plane: with the pointer over the output, the cursor is on the hardware plane.
    vm_tablet_move 16384 16384
    local have_plane=0 cursor
    if cursor=$(kms_plane_wait cursor has-fb 8); then
        have_plane=1
        vm_pass cursor-plane "cursor plane: $cursor"
    else
        vm_failed cursor-plane "the cursor plane carries no framebuffer 8 s after the pointer entered the output: $cursor; syncway says: $(grep -i cursor "$CHECK_TMP/syncway.log" | tail -3)"
    fi

    # cursor-follows: the plane's position follows the tablet (qemu's 0..32767 range spans the mode).
    local ok=$have_plane prev target_x target_y x y
    [ $ok = 1 ] || vm_note cursor-follows "no framebuffer on the cursor plane, nothing to follow"
    for pos in "8192 8192" "24576 16384" "4096 28672"; do
        [ $ok = 1 ] || break
        read -r ax ay <<<"$pos"
        prev=$(kms_xy_of "$cursor")
        vm_tablet_move "$ax" "$ay"
        target_x=$((ax * mode_w / 32768)) target_y=$((ay * mode_h / 32768))
        if ! cursor=$(kms_plane_wait cursor "moved-from=${prev/ /,}" 5); then
            vm_note cursor-follows "tablet at ($target_x, $target_y): the cursor plane stayed at $prev"
            ok=0; break
        fi
        read -r x y <<<"$(kms_xy_of "$cursor")"
        vm_note cursor-follows "tablet at ($target_x, $target_y): cursor plane at ($x, $y)"
        # The plane's top-left is the pointer minus the image's hotspot (< 64 px).
        if [ $((target_x - x)) -lt 0 ] || [ $((target_x - x)) -gt 64 ] || [ $((target_y - y)) -lt 0 ] || [ $((target_y - y)) -gt 64 ]; then
            ok=0; break
        fi
    done
    if [ $ok = 1 ]; then vm_pass cursor-follows "the cursor plane followed three tablet positions"
    else vm_failed cursor-follows "the cursor plane did not follow the tablet: $cursor"; fi

    # cursor-primary-idle: moving the cursor alone flips no new primary framebuffer. Each
    # move is one motion event, hence at most one frame; a re-rendered primary would show a
    # different framebuffer of the swapchain after it (sampled after every move, since an even
    # number of flips returns to the same one).
    local before seen=() fb
    before=$(kms_fb primary)
    for pos in "9000 9000" "12000 10000" "15000 11000" "18000 12000" "21000 13000"; do
        vm_tablet_move ${pos% *} ${pos#* }
        vm_sleep 0.3
        fb=$(kms_fb primary)
        seen+=("$fb")
    done
    if [ "$(printf '%s\n' "${seen[@]}" | sort -u)" = "$before" ]; then
        vm_pass cursor-primary-idle "primary plane kept framebuffer $before through five cursor moves"
    else
        vm_failed cursor-primary-idle "cursor motion flipped the primary plane (framebuffer $before, then ${seen[*]} after each move): the primary was re-rendered"
    fi

    # Client cursor surfaces on the plane are syncway's pixman path (cursor_plane.cpp copies
    # them into its LINEAR buffer); with gles2 wlroots renders them itself, which these checks
    # (pixel read-back, release timing of the copied buffer) do not cover.
    if [ "$KMS_RENDERER" = pixman ]; then
        kms_client_cursor
        kms_client_cursor_dmabuf
    fi

    [ "${3:-}" = fault ] && kms_cursor_fault "$have_plane"

    kill -0 "$KMS_PID" 2>/dev/null || { kms_log_tail; vm_fail "syncway died during the checks"; }
    kms_log_tail 12
    vm_group_status
}

# output-mode (in a kms_checks group, with KMS_OUTPUT_CHECK="SPEC SIZE REFRESH") and
# output-custom-mode: --output on KMS picks the connector's mode of that size (the closest
# refresh), or a custom mode of a size it does not list; the kernel's atomic state (the primary
# plane spans the mode) and syncway's log say which.
kms_output_verdict() {
    local name=$1 spec=$2 size=$3 refresh=$4 primary got line
    primary=$(kms_plane_wait primary has-fb 60)
    got=$(vm_field "$primary" crtc-pos | sed 's/+.*//')
    line=$(grep -o "output [^ ]*: [0-9]*x[0-9]*@[0-9.]* Hz.*" "$CHECK_TMP/syncway.log" | head -1)
    if [ "$got" = "$size" ] && [[ "$line" == *"@$refresh"* ]]; then
        vm_pass "$name" "--output $spec: the primary plane spans $got; syncway: $line"
    else
        vm_failed "$name" "--output $spec: expected a ${size}@${refresh}... mode, the primary plane spans ${got:-nothing} ($primary); syncway: ${line:-$(tail -3 "$CHECK_TMP/syncway.log")}"
    fi
}
kms_output_checks() {
    KMS_ARGS="--output 1000x700@60" kms_start vkms pixman
    kms_output_verdict output-custom-mode 1000x700@60 1000x700 ""
    vm_group_status
}

