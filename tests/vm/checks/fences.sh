# syncobj/ with the kernel's fences: backend detection on devices without timeline syncobjs,
# and kernel sync_files (sw_sync, vgem's implicit write fence) imported into timeline points.
. "$VM_LIB"
vm_runtime_dir
probe=$BUILD_ROOT/tests/vm/vm-fence-probe
export SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncobjd.sock
vm_spawn "$BUILD_ROOT/syncobj/syncobjd" --socket "$SYNCWAY_SYNCOBJ_SOCKET"
vm_wait_for 20 test -S "$SYNCWAY_SYNCOBJ_SOCKET" || vm_fail "syncobjd did not create $SYNCWAY_SYNCOBJ_SOCKET"
for c in backends import-sw-sync import-vgem; do
    if out=$("$probe" "$c" 2>&1); then vm_pass "$c" "$out"; else vm_failed "$c" "$out"; fi
done
vm_group_status
