# The device-dependent tests of other suites (those also in suite 'devices', see
# tests/meson.build) on the VM's kernel: heaps with /dev/dma_heap/system and /dev/udmabuf (the
# host has neither, so there its device tests only cover the fallbacks); syncobj with real DRM
# devices (vgem, vkms, virtio-gpu), none of which offers timeline syncobjs on 6.1, so the
# kernel backends must detect that and not use them.
. "$VM_LIB"
[ -e /dev/dma_heap/system ] && [ -e /dev/udmabuf ] || vm_fail "the VM lacks /dev/dma_heap/system or /dev/udmabuf"
# heaps' linux-dmabuf v4 feedback test starts syncway on the drm backend: only here (root, vkms).
export SYNCWAY_HEAPS_TEST_DRM=1
vm_run_suites heaps syncobj
