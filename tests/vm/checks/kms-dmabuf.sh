# linux-dmabuf on KMS with the kernel's own dma-bufs: syncway on virtio-gpu (pixman) shows a
# client's window whose buffer is a virtio-gpu dumb buffer, a vgem buffer carrying an implicit
# write fence, or a /dev/dma_heap/system buffer (clients/dmabuf_client.cpp), checked by a grim
# screenshot. virtio-gpu cannot import foreign dma-bufs (docs/DESIGN.md §3, the VM tier): syncway's pixman
# linux-dmabuf maps them on the CPU.
# Sub-checks: virtio-buffer, vgem-fence, dma-heap.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
DMABUF_CLIENT=$BUILD_ROOT/tests/vm/vm-dmabuf-client

kms_start virtio_gpu pixman
primary=$(kms_plane_wait primary has-fb 60) || { kms_log_tail; vm_fail "syncway did not modeset within 60 s: $primary"; }
read -r mode_w mode_h <<<"$(kms_mode_size)"
centre() { kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)); }

# Stops the client PID (it stays until killed), so the next window starts on a clean screen.
dmabuf_stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# dmabuf_present NAME SOURCE RRGGBB: SOURCE's dma-buf presented; the screen shows its colour.
dmabuf_present() {
    local name=$1 source=$2 rgb=$3 log=$CHECK_TMP/$1.log px pid
    "$DMABUF_CLIENT" --source "$source" --color "$rgb" > "$log" 2>&1 &
    pid=$!
    VM_PIDS+=("$pid")
    if ! vm_wait_for 60 grep -q presented "$log"; then
        vm_failed "$name" "the client's $source frame was not presented within 60 s: $(cat "$log")"
    elif px=$(centre) && [ "$px" = "$rgb" ]; then
        vm_pass "$name" "$(cat "$log"); screenshot centre pixel #$px"
    else
        vm_failed "$name" "$(cat "$log"), but the screenshot's centre pixel is #$px, expected #$rgb"
    fi
    dmabuf_stop "$pid"
}

# virtio-buffer: dumb buffers of the very card syncway drives, written through their dma-buf.
dmabuf_present virtio-buffer virtio_gpu 2288ee

# vgem-fence: a vgem buffer whose write fence is unsignaled must stay off the screen (and its
# frame callback must not come) until VGEM_FENCE_SIGNAL, then show at once.
fence_rgb=ee7711 log=$CHECK_TMP/vgem-fence.log
mkfifo "$CHECK_TMP/fence-ctl"
trap '' PIPE  # a client that died before the signal line must not kill the check with it
"$DMABUF_CLIENT" --source vgem --color "$fence_rgb" --fence < "$CHECK_TMP/fence-ctl" > "$log" 2>&1 &
pid=$!
VM_PIDS+=("$pid")
exec 3> "$CHECK_TMP/fence-ctl"
if ! vm_wait_for 60 grep -q "fence was unsignaled" "$log"; then
    vm_failed vgem-fence "the client did not commit its fenced buffer within 60 s: $(cat "$log")"
elif ! before=$(centre); then
    vm_failed vgem-fence "grim failed while the write fence was unsignaled: $before"
elif [ "$before" = "$fence_rgb" ] || grep -q EARLY "$log"; then
    vm_failed vgem-fence "while the write fence was unsignaled the screenshot's centre pixel is #$before (the buffer's colour is #$fence_rgb); the client says: $(cat "$log")"
else
    vm_note vgem-fence "fence unsignaled: $(cat "$log"); screenshot centre pixel #$before"
    echo signal >&3
    if ! vm_wait_for 30 grep -q presented "$log"; then
        vm_failed vgem-fence "no frame within 30 s of VGEM_FENCE_SIGNAL: $(cat "$log")"
    elif px=$(centre) && [ "$px" = "$fence_rgb" ]; then
        vm_pass vgem-fence "$(tail -1 "$log"); screenshot centre pixel #$px"
    else
        vm_failed vgem-fence "after the fence signaled the screenshot's centre pixel is #$px, expected #$fence_rgb"
    fi
fi
exec 3>&-
dmabuf_stop "$pid"

# dma-heap: a /dev/dma_heap/system buffer.
dmabuf_present dma-heap heap 11cc88

kill -0 "$KMS_PID" 2>/dev/null || { kms_log_tail; vm_fail "syncway died during the checks"; }
vm_group_status
