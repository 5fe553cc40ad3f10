# --buffer-heap on virtio-gpu, which imports no dma-buf it did not make: with auto the output
# keeps wlroots' DRM dumb buffers and syncway logs why (the driver refused the heap buffer at
# PRIME import); with a named heap start-up fails naming the heap and the driver. Sub-checks
# (kms-virtio-heap.NAME):
#   fallback  auto: the log names the refusal; the primary plane's framebuffer is virtio-gpu's
#             own (exporter drm), the screen shows a client's colour
#   refused   --buffer-heap system: exit status 1 during start-up, the message names 'system'
#             and virtio_gpu
#   scanout-refused  a client's full-output heap dma-buf cannot be scanned out here: two such
#             frames are presented composited (screen shows the colour, the plane keeps
#             virtio-gpu's own framebuffer), and syncway logs why exactly once
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"

[ -c /dev/dma_heap/system ] || vm_fail "no /dev/dma_heap/system in this kernel"

KMS_ARGS="--buffer-heap auto" kms_start virtio_gpu pixman
kms_plane_wait primary has-fb 60 > /dev/null
read -r mode_w mode_h <<<"$(kms_mode_size)"
logged=$(grep "framebuffers from" "$CHECK_TMP/syncway.log")
memory=$("$VM_PROBE" plane-memory virtio_gpu primary)
vm_note fallback "syncway: $logged"
vm_note fallback "primary plane: $memory"
"$SOLID_CLIENT" --color "ff$CLIENT_RGB" > "$CHECK_TMP/client.log" 2>&1 &
VM_PIDS+=($!)
if ! vm_wait_for 60 grep -q presented "$CHECK_TMP/client.log"; then
    vm_failed fallback "the client's first frame was not presented within 60 s: $(cat "$CHECK_TMP/client.log")"
elif [[ "$logged" != *"framebuffers from wlroots' allocator (--buffer-heap auto: a dma-buf heap 'system' buffer: the DRM driver virtio_gpu refuses to import it"* ]]; then
    vm_failed fallback "syncway's log does not give virtio_gpu's refusal as the reason for wlroots' allocator: ${logged:-nothing}"
elif [[ "$memory" == "exporter=system"* ]]; then
    vm_failed fallback "the primary plane's framebuffer is a heap buffer on virtio_gpu: $memory"
else
    px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
    if [ "$px" = "$CLIENT_RGB" ]; then
        vm_pass fallback "${logged#*: }; primary plane: $memory; screenshot centre pixel #$px"
    else
        vm_failed fallback "the screenshot's centre pixel is #$px, expected #$CLIENT_RGB"
    fi
fi

scanout_says() { vm_wait_for "$1" grep -q "$2" "$CHECK_TMP/scanout-client.log"; }
fifo=$CHECK_TMP/scanout-client.in
mkfifo "$fifo"
SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock \
    "$SOLID_CLIENT" --color ff101010 --window-sync heap --commands < "$fifo" > "$CHECK_TMP/scanout-client.log" 2>&1 &
VM_PIDS+=($!)
exec 8> "$fifo"
if scanout_says 30 presented && echo "heap-window ff2299dd" >&8 && scanout_says 10 "window 1 presented" &&
    echo "heap-window ff22dd99" >&8 && scanout_says 10 "window 2 presented"; then
    refusals=$(grep -c "direct scan-out of a .* client dma-buf not possible" "$CHECK_TMP/syncway.log")
    refusal=$(grep -m1 "direct scan-out of a" "$CHECK_TMP/syncway.log")
    memory=$("$VM_PROBE" plane-memory virtio_gpu primary)
    px=$(kms_screenshot_pixel $((mode_w / 2)) $((mode_h / 2)))
    presented=$(grep "^window [12] presented" "$CHECK_TMP/scanout-client.log" | tr '\n' ' ')
    if [ "$refusals" != 1 ] || [[ "$refusal" != *"the display refused it"* ]]; then
        vm_failed scanout-refused "expected one log line saying the display refused the client's dma-buf, found $refusals: ${refusal:-none}"
    elif [[ "$memory" == *" name=vm-window-"* ]]; then
        vm_failed scanout-refused "virtio-gpu scanned out a foreign dma-buf? plane: $memory; client: $presented"
    elif [ "$px" != 22dd99 ]; then
        vm_failed scanout-refused "the screenshot's centre pixel is #$px, expected #22dd99"
    else
        vm_pass scanout-refused "${refusal#*: }; plane: $memory; client: $presented; screenshot #$px"
    fi
else
    vm_failed scanout-refused "the heap windows were not presented: $(tail -3 "$CHECK_TMP/scanout-client.log" | tr '\n' ' ')"
fi
vm_cleanup

card=$(vm_card virtio_gpu)
status=0
WLR_DRM_DEVICES=$card LIBSEAT_BACKEND=builtin timeout 60 "$SYNCWAY" --backend drm --renderer pixman \
    --socket vm-heap-refused --buffer-heap system > "$CHECK_TMP/refused.log" 2>&1 || status=$?
message=$(grep -i "buffer-heap" "$CHECK_TMP/refused.log" | tail -1)
if [ "$status" = 1 ] && [[ "$message" == *"'system'"* ]] && [[ "$message" == *virtio_gpu* ]]; then
    vm_pass refused "exit status 1: $message"
else
    vm_failed refused "exit status $status (expected 1 naming 'system' and virtio_gpu): $(tail -5 "$CHECK_TMP/refused.log")"
fi
vm_group_status
