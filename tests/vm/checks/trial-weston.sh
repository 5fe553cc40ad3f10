. "$VM_LIB"
vm_start_udev
card=$(vm_card vkms) || vm_fail "no vkms"
export XDG_RUNTIME_DIR=/run/user/65534; mkdir -p -m 0700 $XDG_RUNTIME_DIR; chown nobody $XDG_RUNTIME_DIR
vm_spawn seatd -u nobody -g nogroup
sleep 1
ls -la /run/seatd.sock
export WLR_DRM_DEVICES=$card WLR_RENDERER=${R:-gles2} LIBSEAT_BACKEND=seatd WLR_RENDERER_ALLOW_SOFTWARE=1
t0=$(date +%s.%N)
vm_spawn setpriv --reuid=nobody --regid=nogroup --groups=video,input,render env HOME=/tmp sway -c /dev/null -d > $CHECK_TMP/sway.log 2>&1
vm_wait_for 40 test -S $XDG_RUNTIME_DIR/wayland-1 || { tail -50 $CHECK_TMP/sway.log; vm_fail no socket; }
echo "socket after $(awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN{print b-a}') s"
sleep 1
vm_planes vkms
vm_tablet_move 16000 16000
sleep 1
vm_planes vkms
vm_tablet_move 2000 3000
sleep 1
vm_planes vkms
WAYLAND_DISPLAY=wayland-1 setpriv --reuid=nobody --regid=nogroup --groups=video,input,render grim $CHECK_TMP/shot.png && ls -la $CHECK_TMP/shot.png
grep -i -E "cursor|error|intersect" $CHECK_TMP/sway.log | head -30
