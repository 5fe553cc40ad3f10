// A dma-buf exported by vgem, with vgem's fences: VGEM_FENCE_ATTACH puts an unsignaled fence
// in the buffer's reservation object (implicit sync, as a GPU write would), VGEM_FENCE_SIGNAL
// signals it. The uapi header (drm/vgem_drm.h) is not installed by libdrm-dev; the ioctl
// numbers and structs are the kernel's ABI.
#pragma once

#include "dumb_buffer.hpp"

#include <syncway/result.hpp>

#include <cstdint>
#include <utility>

namespace syncway::vm {

class VgemBuffer {
public:
    // A width x height ARGB8888 dumb buffer on the vgem card, exported as a dma-buf.
    static Result<VgemBuffer> create(uint32_t width, uint32_t height);

    int dmabuf() const { return buffer_.dmabuf(); }
    uint32_t stride() const { return buffer_.stride(); }
    uint64_t size() const { return buffer_.size(); }

    // Attaches an unsignaled write fence; returns its id for signal_fence.
    Result<uint32_t> attach_write_fence();
    Status signal_fence(uint32_t fence);

private:
    explicit VgemBuffer(DumbBuffer buffer) : buffer_(std::move(buffer)) {}
    DumbBuffer buffer_;
};

} // namespace syncway::vm
