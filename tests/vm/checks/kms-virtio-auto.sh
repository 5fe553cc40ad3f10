# syncway on virtio-gpu's KMS with --renderer auto, started as a user would (no
# WLR_RENDERER_ALLOW_SOFTWARE). Without virgl the render node's GL is Mesa's software
# kms_swrast, where gles2 crashes (tests/vm/README.md): auto must not end there.
# Sub-check: renderer (syncway stays up, names the renderer it took, presents a client frame).
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
KMS_ALLOW_SOFTWARE_GL=0 kms_start virtio_gpu auto
took=$(grep -o "renderer: [a-z0-9]* (--renderer auto)" "$CHECK_TMP/syncway.log" | head -1)
"$SOLID_CLIENT" --color "ff$CLIENT_RGB" > "$CHECK_TMP/client.log" 2>&1 &
VM_PIDS+=($!)
if ! vm_wait_for 60 grep -q presented "$CHECK_TMP/client.log"; then
    vm_failed renderer "${took:-no renderer named}; the client's frame was not presented within 60 s: $(cat "$CHECK_TMP/client.log"); syncway: $(tail -5 "$CHECK_TMP/syncway.log" | tr '\n' ' ')"
else
    read -r mode_w mode_h <<<"$(kms_mode_size)"
    px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
    vm_sleep 2  # a renderer that crashes does so within the first frames
    if ! kill -0 "$KMS_PID" 2>/dev/null; then
        vm_failed renderer "${took:-no renderer named}; syncway died after the first frame: $(tail -8 "$CHECK_TMP/syncway.log" | tr '\n' ' ')"
    elif [ "$took" != "renderer: pixman (--renderer auto)" ]; then
        vm_failed renderer "expected auto to take pixman on virtio-gpu's software GL, syncway says: ${took:-nothing}"
    elif [ "$px" != "$CLIENT_RGB" ]; then
        vm_failed renderer "$took, but the screenshot's centre pixel is #$px, expected #$CLIENT_RGB"
    else
        vm_pass renderer "$took; the client's frame is on screen (#$px) and syncway is alive"
    fi
fi
kms_log_tail 6
vm_group_status
