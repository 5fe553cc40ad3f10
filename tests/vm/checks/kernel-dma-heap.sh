# /dev/dma_heap/system allocates page-backed dma-bufs that map, sync and read back.
exec "$BUILD_ROOT/tests/vm/vm-kernel-probe" dma-heap
