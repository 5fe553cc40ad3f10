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
