// A dma-buf exported by vgem, with vgem's fences: VGEM_FENCE_ATTACH puts an unsignaled fence
// in the buffer's reservation object (implicit sync, as a GPU write would), VGEM_FENCE_SIGNAL
// signals it. The uapi header (drm/vgem_drm.h) is not installed by libdrm-dev; the ioctl
// numbers and structs are the kernel's ABI.
#pragma once

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>

namespace syncway::vm {

class VgemBuffer {
public:
    // A width x height ARGB8888 dumb buffer on the vgem card, exported as a dma-buf.
    static Result<VgemBuffer> create(uint32_t width, uint32_t height);

    int dmabuf() const { return dmabuf_.get(); }
    uint32_t stride() const { return stride_; }
    uint64_t size() const { return size_; }

    // Attaches an unsignaled write fence; returns its id for signal_fence.
    Result<uint32_t> attach_write_fence();
    Status signal_fence(uint32_t fence);

private:
    UniqueFd card_, dmabuf_;
    uint32_t handle_ = 0, stride_ = 0;
    uint64_t size_ = 0;
};

} // namespace syncway::vm
