# examples/explicit-sync-cursor on KMS (vkms, pixman): its animated cursor surface, every image
# committed with an acquire point before its render thread draws it, goes on the cursor plane
# (syncway's own cursor-plane path copies each applied commit there). Sub-checks:
#   on-plane: with the pointer in the example's window, the framebuffer on vkms's cursor plane
#     holds the example's dial: pixel (1,1) is the dial's corner colour (red 0x2b, green 0x1b
#     at --cursor-size 64, fixed by the drawing), and its blue channel, the frame number the
#     example writes into every pixel, changes while it animates: the plane shows new images;
#   presented: the example's report counts its frames from the cursor surface's wp_presentation
#     feedback (syncway presents a cursor image once the output the cursor is on shows it):
#     exit 0, every committed frame presented or discarded, at least half presented.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
example=$BUILD_ROOT/examples/explicit-sync-cursor
[ -x "$example" ] || vm_fail "$example was not built"
kms_start vkms pixman
kms_plane_wait primary has-fb 60 > /dev/null || { kms_log_tail; vm_fail "no frame on the primary plane"; }
read -r mode_w mode_h <<<"$(kms_mode_size)"

# The example's window sits at the output's top left: with the pointer already there (the
# tablet's 0..32767 spans the mode), the window gets the pointer as it maps and animates.
vm_tablet_move 2000 2000
frames=240
SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncway-syncobj-$KMS_PID.sock timeout -k 5 150 \
    "$example" --cursor-size 64 --frames $frames --json > "$CHECK_TMP/example.json" 2> "$CHECK_TMP/example.err" &
example_pid=$!
VM_PIDS+=($example_pid)

# Pixel (1,1) of the cursor plane's framebuffer: "AARRGGBB" (vm-kernel-probe plane-pixel).
dial_pixel() { "$VM_PROBE" plane-pixel vkms cursor 1 1 2>/dev/null | awk '{print $1}'; }
codes=() px=""
for _ in $(seq 1 120); do
    px=$(dial_pixel)
    if [ "${px:0:6}" = ff2b1b ]; then
        [ "${codes[-1]:-}" = "${px:6:2}" ] || codes+=("${px:6:2}")
        [ ${#codes[@]} -ge 3 ] && break
    fi
    kill -0 $example_pid 2>/dev/null || break
    vm_sleep 0.25
done
if [ ${#codes[@]} -ge 3 ]; then
    vm_pass on-plane "the cursor plane shows the example's dial, frames (blue, hex) ${codes[*]}: $(kms_plane cursor)"
elif [ ${#codes[@]} -ge 1 ]; then
    vm_failed on-plane "the example's dial is on the cursor plane but did not animate there (frames ${codes[*]}): $(kms_plane cursor)"
else
    vm_failed on-plane "the cursor plane's pixel (1,1) is #${px:-nothing read}, not the dial's #ff2b1bXX: $(kms_plane cursor); syncway: $(grep -i cursor "$CHECK_TMP/syncway.log" | tail -3 | tr '\n' ' ')"
fi

wait $example_pid
rc=$?
out=$(cat "$CHECK_TMP/example.json")
committed=$(sed -n 's/.*"frames_committed":\([0-9]*\).*/\1/p' <<<"$out")
presented=$(sed -n 's/.*"frames_presented":\([0-9]*\).*/\1/p' <<<"$out")
discarded=$(sed -n 's/.*"frames_discarded":\([0-9]*\).*/\1/p' <<<"$out")
if [ $rc = 0 ] && [ "${committed:-0}" = $frames ] && [ "${presented:-0}" -ge $((frames / 2)) ] &&
    [ $((${presented:-0} + ${discarded:-0})) = $frames ] && grep -q '"presented_from":"wp_presentation"' <<<"$out"; then
    vm_pass presented "$out"
else
    vm_failed presented "explicit-sync-cursor --frames $frames: exit $rc (want 0, all $frames committed, at least $((frames / 2)) presented, the rest discarded): $out"$'\n'"$(tail -n 20 "$CHECK_TMP/example.err")"
fi
kill -0 "$KMS_PID" 2>/dev/null || { kms_log_tail; vm_fail "syncway died during the checks"; }
kms_log_tail 12
vm_group_status
