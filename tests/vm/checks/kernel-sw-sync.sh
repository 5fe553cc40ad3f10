# sw_sync fences stay unsignaled until the timeline's counter passes them.
exec "$BUILD_ROOT/tests/vm/vm-kernel-probe" sw-sync
