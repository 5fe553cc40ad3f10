// A KMS dumb buffer on the card a driver drives (vgem, virtio_gpu, vkms), exported as a
// dma-buf (PRIME, read-write so it can be mapped for writing).
#pragma once

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace syncway::vm {

class DumbBuffer {
public:
    // A width x height, 32 bpp dumb buffer on the card driven by `driver`.
    static Result<DumbBuffer> create(const std::string& driver, uint32_t width, uint32_t height);

    int card() const { return card_.get(); }
    uint32_t handle() const { return handle_; }
    int dmabuf() const { return dmabuf_.get(); }
    uint32_t stride() const { return stride_; }
    uint64_t size() const { return size_; }

private:
    UniqueFd card_, dmabuf_;
    uint32_t handle_ = 0, stride_ = 0;
    uint64_t size_ = 0;
};

} // namespace syncway::vm
