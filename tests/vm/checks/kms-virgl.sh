# syncway on virtio-gpu with virgl (session virgl: vm_tier.py --gpu virgl), where the guest's
# GL is the host's through virglrenderer, so EGL drives the card's render node and wlroots' gles2
# imports client dma-bufs (linux-dmabuf on the GPU path). Sub-checks:
#   renderer: started as a user would (--renderer auto, no WLR_RENDERER_ALLOW_SOFTWARE), syncway
#     takes gles2 on virgl (kms-virtio-auto.renderer is the software-GL counterpart) and a
#     client's frame is on screen;
#   dmabuf-fenced-release: guest/kms.sh kms_dmabuf_fenced_release;
#   example-gbm: examples/explicit-sync-gbm on the card's render node (GBM buffers rendered by
#     virgl, each frame's acquire point the GPU's sync_file) presents all its frames.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
KMS_ALLOW_SOFTWARE_GL=0 kms_start virtio_gpu auto
took=$(grep -o "renderer: [a-z0-9]* (--renderer auto)" "$CHECK_TMP/syncway.log" | head -1)
"$SOLID_CLIENT" --color "ff$CLIENT_RGB" > "$CHECK_TMP/client.log" 2>&1 &
client=$!
VM_PIDS+=($client)
if ! vm_wait_for 60 grep -q presented "$CHECK_TMP/client.log"; then
    vm_failed renderer "${took:-no renderer named}; the client's frame was not presented within 60 s: $(cat "$CHECK_TMP/client.log")"
    kms_log_tail 12
    vm_group_status
    exit
fi
read -r mode_w mode_h <<<"$(kms_mode_size)"
px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
if [ "$took" != "renderer: gles2 (--renderer auto)" ]; then
    vm_failed renderer "expected auto to take gles2 on virgl, syncway says: ${took:-nothing}"
elif [ "$px" != "$CLIENT_RGB" ]; then
    vm_failed renderer "$took, but the screenshot's centre pixel is #$px, expected #$CLIENT_RGB"
else
    vm_pass renderer "$took; the client's frame is on screen (#$px)"
fi
kill "$client"; wait "$client" 2>/dev/null  # the next client's window alone on screen
kms_dmabuf_fenced_release
example=$BUILD_ROOT/examples/explicit-sync-gbm
if [ -x "$example" ]; then
    out=$(SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock timeout -k 5 120 \
        "$example" --frames 60 --size 640x480 --load 2 --json 2> "$CHECK_TMP/example-gbm.err")
    rc=$?
    presented=$(sed -n 's/.*"frames_presented":\([0-9]*\).*/\1/p' <<<"$out")
    discarded=$(sed -n 's/.*"frames_discarded":\([0-9]*\).*/\1/p' <<<"$out")
    if [ $rc = 0 ] && [ "${presented:-0}" -ge 30 ] && [ $((${presented:-0} + ${discarded:-0})) = 60 ]; then
        vm_pass example-gbm "$(cat "$CHECK_TMP/example-gbm.err")"$'\n'"$out"
    else
        vm_failed example-gbm "explicit-sync-gbm --frames 60: exit $rc (want 0 and at least 30 of 60 presented): $out"$'\n'"$(tail -n 20 "$CHECK_TMP/example-gbm.err")"
    fi
else
    vm_failed example-gbm "$example was not built"
fi
kill -0 "$KMS_PID" 2>/dev/null || { kms_log_tail; vm_fail "syncway died during the checks"; }
kms_log_tail 12
vm_group_status
