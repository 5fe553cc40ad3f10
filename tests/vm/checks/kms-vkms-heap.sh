# syncway's own framebuffers from a dma-buf heap on vkms (pixman): --buffer-heap system puts
# heap buffers on the primary and the cursor plane (the kernel's state: the plane's framebuffer,
# PRIME-exported back, is a dma-buf whose exporter is the heap `system`, named by syncway), the
# screen and the planes' own pixels are right; then the properties form picks the same heap by
# what its name says. Sub-checks (kms-vkms-heap.NAME):
#   primary   log names the heap; primary plane memory is `system`; a client's colour in the
#             screenshot and in the primary plane's own pixels
#   cursor    cursor plane memory is `system`; a client's cursor surface colour on it
#   properties  --buffer-heap cacheable,non-contiguous: the log says `system` meets it, the
#             primary plane's memory is `system`
#   scanout   direct scan-out: a client's full-output opaque dma-buf (a `system` heap buffer
#             the client names vm-window-N) is itself the primary plane's framebuffer, and a
#             screenshot (which composites) shows its colour
#   scanout-release  in three swaps, the replaced buffer's release point signals only once
#             the buffer that replaced it is presented (the page flip away from it), never before
#   scanout-covered  with a second (translucent) window over it, the plane shows syncway's own
#             framebuffer again; once that window is gone, the client's buffer again
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"

[ -c /dev/dma_heap/system ] || vm_fail "no /dev/dma_heap/system in this kernel"

# "exporter=E name=N size=WxH" of the framebuffer on TYPE's plane.
heap_plane_memory() { "$VM_PROBE" plane-memory vkms "$1"; }
heap_stop() {
    kill -TERM "$KMS_PID" 2>/dev/null
    for _ in {1..50}; do kill -0 "$KMS_PID" 2>/dev/null || break; vm_sleep 0.1; done
    kill -KILL "$KMS_PID" 2>/dev/null
    wait "$KMS_PID" 2>/dev/null
}

# scanout, scanout-release, scanout-covered: a client (vm-solid-client --window-sync heap)
# whose window shows dma-heap buffers, opaque (XRGB8888) and of the output's size.
SCANOUT_ARGB=ff2299dd SCANOUT_ARGB2=ffdd9922 SCANOUT_ARGB3=ff22dd99
scanout_says() { vm_wait_for "$1" grep -q "$2" "$CHECK_TMP/scanout-client.log"; }
scanout_tail() { tail -3 "$CHECK_TMP/scanout-client.log" | tr '\n' ' '; }
# Waits (5 s at most: a probe takes up to a second under TCG) until the primary plane's
# framebuffer is the dma-buf named $1 (or, with $1 = syncway-framebuffer, one of syncway's);
# prints the last plane-memory line read.
scanout_plane_shows() {
    local memory deadline=$((SECONDS + 5))
    while :; do
        memory=$(heap_plane_memory primary)
        [[ "$memory" == *" name=$1 "* ]] && { echo "$memory"; return 0; }
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.1
    done
    echo "$memory"
    return 1
}
scanout_checks() {
    local fifo=$CHECK_TMP/scanout-client.in memory px line
    mkfifo "$fifo"
    SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock \
        "$SOLID_CLIENT" --color ff101010 --window-sync heap --commands \
        < "$fifo" > "$CHECK_TMP/scanout-client.log" 2>&1 &
    VM_PIDS+=($!)
    exec 8> "$fifo"
    if ! scanout_says 30 presented; then
        vm_failed scanout "the client's window was not presented: $(scanout_tail)"
        vm_failed scanout-release "no client"; vm_failed scanout-covered "no client"; return
    fi
    echo "heap-window $SCANOUT_ARGB" >&8
    if ! scanout_says 10 "window 1 presented"; then
        vm_failed scanout "the heap window was not presented: $(scanout_tail)"
        vm_failed scanout-release "no client"; vm_failed scanout-covered "no client"; return
    fi
    line=$(grep "window 1 presented" "$CHECK_TMP/scanout-client.log")
    if ! memory=$(scanout_plane_shows vm-window-1); then
        vm_failed scanout "the primary plane's framebuffer is not the client's dma-buf vm-window-1: $memory; client: $line; syncway: $(grep -i "scan-out" "$CHECK_TMP/syncway.log" | tail -2)"
    elif [[ "$memory" != "exporter=system "* ]]; then
        vm_failed scanout "the client's buffer on the plane is not a 'system' heap buffer: $memory"
    else
        px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
        if [ "$px" != "${SCANOUT_ARGB:2}" ]; then
            vm_failed scanout "the screenshot's centre pixel is #$px, expected #${SCANOUT_ARGB:2}"
        else
            vm_pass scanout "primary plane: $memory (the client's dma-buf); client: $line; screenshot centre pixel #$px"
        fi
    fi

    # Two-buffer swaps timed by frame callbacks: window N is committed to the plane, and on its
    # frame callback (its page flip still pending) window N+1. Window N's release point must
    # come after window N+1's presentation time (the flip that takes N off the plane). Three
    # swaps: a release that came too early by less than the wake-up latency of the client
    # could pass one of them.
    local swap first ms lines="" early=""
    for swap in 1 2 3; do
        first=$((2 * swap))
        echo "swap-window $SCANOUT_ARGB2 $SCANOUT_ARGB3" >&8
        if ! scanout_says 10 "swap: release $first "; then
            vm_failed scanout-release "no answer to swap $swap: $(scanout_tail)"; early=x; break
        fi
        line=$(grep "swap: release $first " "$CHECK_TMP/scanout-client.log")
        lines+="${line#swap: }; "
        ms=$(sed -n 's/.*signaled \(-\{0,1\}[0-9.]*\) ms after.*/\1/p' <<<"$line")
        if [ -z "$ms" ] || awk -v m="$ms" 'BEGIN { exit !(m < 0) }'; then early+="$line; "; fi
    done
    SCANOUT_LAST=vm-window-$((first + 1))
    memory=$(scanout_plane_shows "$SCANOUT_LAST")
    vm_note scanout-release "client: $(grep "^window [2-7] presented" "$CHECK_TMP/scanout-client.log" | tr '\n' ' ')"
    if [ "$early" = x ]; then
        :
    elif [[ "$memory" != *" name=$SCANOUT_LAST "* ]]; then
        vm_failed scanout-release "after the swaps the plane does not show $SCANOUT_LAST: $memory"
    elif [ -n "$early" ]; then
        vm_failed scanout-release "a replaced window's release point signaled before the window replacing it was presented (while the plane still scanned it out): $early"
    elif [ "$(grep -c "^window [2-7] presented" "$CHECK_TMP/scanout-client.log")" != 6 ]; then
        vm_failed scanout-release "not every swapped window was presented: $(grep "^window [2-7] " "$CHECK_TMP/scanout-client.log" | tr '\n' ' ')"
    else
        vm_pass scanout-release "${lines}plane: $memory"
    fi

    # scanout-covered: a second window (wl_shm ARGB8888: not opaque) over the first.
    "$SOLID_CLIENT" --color ff556677 > "$CHECK_TMP/cover-client.log" 2>&1 &
    local cover=$!
    VM_PIDS+=($cover)
    if ! vm_wait_for 30 grep -q presented "$CHECK_TMP/cover-client.log"; then
        vm_failed scanout-covered "the covering window was not presented: $(cat "$CHECK_TMP/cover-client.log")"; return
    fi
    if ! memory=$(scanout_plane_shows syncway-framebuffer); then
        vm_failed scanout-covered "with a window over the client's, the primary plane still shows $memory, not syncway's composite"; return
    fi
    kill "$cover"; wait "$cover" 2>/dev/null
    local back
    if ! back=$(scanout_plane_shows "$SCANOUT_LAST"); then
        vm_failed scanout-covered "covered: $memory; once the covering window was gone, the plane shows $back, not the client's $SCANOUT_LAST"
    else
        vm_pass scanout-covered "covered by a second window: $memory; uncovered: $back"
    fi
}

KMS_ARGS="--buffer-heap system" kms_start vkms pixman

# primary
primary=$(kms_plane_wait primary has-fb 60)
read -r mode_w mode_h <<<"$(kms_mode_size)"
logged=$(grep "framebuffers from" "$CHECK_TMP/syncway.log")
memory=$(heap_plane_memory primary)
vm_note primary "syncway: $logged"
vm_note primary "primary plane: $memory"
"$SOLID_CLIENT" --color "ff$CLIENT_RGB" > "$CHECK_TMP/client.log" 2>&1 &
VM_PIDS+=($!)
if ! vm_wait_for 60 grep -q presented "$CHECK_TMP/client.log"; then
    vm_failed primary "the client's first frame was not presented within 60 s: $(cat "$CHECK_TMP/client.log")"
elif [[ "$logged" != *"framebuffers from dma-buf heap 'system': --buffer-heap heap 'system'"* ]]; then
    vm_failed primary "syncway's log does not say the output's framebuffers come from heap 'system': ${logged:-nothing}"
elif [[ "$memory" != "exporter=system name=syncway-framebuffer "* ]]; then
    vm_failed primary "the primary plane's framebuffer is not a 'system' heap buffer of syncway's: $memory"
else
    px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
    plane_px=$("$VM_PROBE" plane-pixel vkms primary $((mode_w / 2)) $((mode_h / 2)))
    if [ "$px" != "$CLIENT_RGB" ]; then
        vm_failed primary "the screenshot's centre pixel is #$px, expected #$CLIENT_RGB"
    elif [ "${plane_px:2:6}" != "$CLIENT_RGB" ]; then
        vm_failed primary "the primary plane's own centre pixel is ${plane_px%% *}, expected xx$CLIENT_RGB"
    else
        vm_pass primary "framebuffers from heap 'system' ($(heap_plane_memory primary)); screenshot and plane centre pixel #$px"
    fi
fi

# cursor: the plane's buffer comes from the output's allocator, so from the heap too.
vm_tablet_move 16384 16384
if ! cursor=$(kms_plane_wait cursor has-fb 8); then
    vm_failed cursor "the cursor plane carries no framebuffer 8 s after the pointer entered the output: $cursor; syncway: $(grep -i cursor "$CHECK_TMP/syncway.log" | tail -3)"
else
    memory=$(heap_plane_memory cursor)
    vm_note cursor "cursor plane: $memory; syncway: $(grep "cursor plane buffer" "$CHECK_TMP/syncway.log")"
    if [[ "$memory" != "exporter=system name=syncway-framebuffer "* ]]; then
        vm_failed cursor "the cursor plane's framebuffer is not a 'system' heap buffer of syncway's: $memory"
    else
        kms_client_cursor
        memory=$(heap_plane_memory cursor)
        if [ "$(cat "$VM_RESULTS/$CHECK_NAME.client-cursor.status" 2>/dev/null)" != 0 ]; then
            vm_failed cursor "the client's cursor surface did not reach the heap cursor buffer (see client-cursor)"
        elif [[ "$memory" != "exporter=system name=syncway-framebuffer "* ]]; then
            vm_failed cursor "with the client's cursor on it, the cursor plane's framebuffer is $memory"
        else
            vm_pass cursor "cursor plane: $memory, showing the client's cursor (pixel (1,1) read from the heap buffer)"
        fi
    fi
fi
scanout_checks
heap_stop

# properties: the heap chosen by what its name says (system: cacheable, not contiguous).
KMS_ARGS="--buffer-heap cacheable,non-contiguous" kms_start vkms pixman
kms_plane_wait primary has-fb 60 > /dev/null
logged=$(grep "framebuffers from" "$CHECK_TMP/syncway.log")
memory=$(heap_plane_memory primary)
if [[ "$logged" == *"framebuffers from dma-buf heap 'system': --buffer-heap a heap that is cacheable, non-contiguous: 'system' meets it"* ]] &&
    [[ "$memory" == "exporter=system name=syncway-framebuffer "* ]]; then
    vm_pass properties "syncway: ${logged#*: }; primary plane: $memory"
else
    vm_failed properties "syncway: ${logged:-no choice logged}; primary plane: $memory"
fi
heap_stop
vm_group_status
