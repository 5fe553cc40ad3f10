# /dev/udmabuf turns sealed memfds into dma-bufs that share their pages.
exec "$BUILD_ROOT/tests/vm/vm-kernel-probe" udmabuf
