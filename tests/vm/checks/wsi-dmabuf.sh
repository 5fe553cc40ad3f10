# The Vulkan layer's dma-buf path (wsi/): on this kernel heaps/ finds dma-buf sources, so the
# layer's swapchain images are dma-bufs shared through syncway's linux-dmabuf (the host has
# none and only ever takes the wl_shm path). The wsi suite's case
# Client.ImagePathFollowsTheDmaBufSource runs here as on the host: lavapipe renders red frames
# into the images through their CPU mapping, syncway (headless, pixman) maps the dma-bufs and
# shows them (grim), every commit in its recording carries an acquire point, syncway must hold
# the images' dma-bufs open (/proc/PID/fdinfo), and the layer's log must name the source.
# (syncway's recording calls these buffers "shm": it names a buffer by how wlroots can access
# it, and the pixman renderer's linux-dmabuf buffers offer CPU access only.)
# Sub-checks: heap (/dev/dma_heap/system, what heaps/ tries first), udmabuf (the heaps hidden
# under an empty tmpfs, so heaps/ falls back to /dev/udmabuf), no-source (both hidden: the
# layer must fall back to memfds through wl_shm).
. "$VM_LIB"
[ -e /dev/dma_heap/system ] && [ -e /dev/udmabuf ] || vm_fail "the VM lacks /dev/dma_heap/system or /dev/udmabuf"

# What the meson test sets (tests/wsi/meson.build).
export SYNCWAY_BIN=$BUILD_ROOT/compositor/syncway WSI_TEST_CLIENT=$BUILD_ROOT/tests/wsi/wsi-test-client
export LP_NUM_THREADS=1 VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json NODEVICE_SELECT=1

# wsi_case NAME SAID HELD: the gtest case passes, the layer's line names SAID and syncway holds
# dma-bufs of exporter HELD ("" for none).
wsi_case() {
    local name=$1 said=$2 held=$3 log=$CHECK_TMP/$1.log layer holds
    if ! "$BUILD_ROOT/tests/wsi/test_wsi" --gtest_filter=Client.ImagePathFollowsTheDmaBufSource > "$log" 2>&1; then
        vm_failed "$name" "Client.ImagePathFollowsTheDmaBufSource failed: $(cat "$log")"
        return
    fi
    layer=$(grep -m1 '^layer: ' "$log")
    holds=$(grep -m1 '^syncway holds ' "$log")
    if [[ $layer != *"$said"* ]]; then
        vm_failed "$name" "the test passed, but the layer said \"$layer\", expected \"$said\""
    elif [ -n "$held" ] && [[ $holds != *" $held"* ]]; then
        vm_failed "$name" "the test passed, but $holds, expected ones from $held"
    else
        vm_pass "$name" "$layer; $holds"
    fi
}

wsi_case heap "dma-bufs from dma-buf heap 'system'" system

# An empty tmpfs over /dev/dma_heap hides the heaps from heaps/ (and from the test's own look).
mount -t tmpfs -o size=1m,mode=0755 none /dev/dma_heap || vm_fail "cannot hide /dev/dma_heap"
wsi_case udmabuf "dma-bufs from udmabuf (/dev/udmabuf)" udmabuf
mv /dev/udmabuf /dev/udmabuf.hidden || vm_fail "cannot hide /dev/udmabuf"
wsi_case no-source "memfds through wl_shm: no dma-buf source on this machine" ""
mv /dev/udmabuf.hidden /dev/udmabuf
umount /dev/dma_heap
vm_group_status
