// A buffer that a card's own GL driver allocated through GBM (Mesa's virgl on virtio-gpu, in the
// virgl session), filled on the CPU through gbm_bo_map (which, with virgl, transfers the written
// pixels to the host's copy of the resource at unmap), and exported as a dma-buf.
#pragma once

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <memory>
#include <string>

struct gbm_device;
struct gbm_bo;

namespace syncway::vm {

class GbmBuffer {
public:
    // A width x height LINEAR ARGB8888 buffer of the colour `argb` on the card `driver` drives.
    static Result<GbmBuffer> create(const std::string& driver, uint32_t width, uint32_t height, uint32_t argb);

    int dmabuf() const { return dmabuf_.get(); }
    uint32_t stride() const { return stride_; }

private:
    struct DeviceDeleter {
        void operator()(gbm_device* d) const;
    };
    struct BoDeleter {
        void operator()(gbm_bo* b) const;
    };
    // Declared in the order they are made; destroyed in reverse (the bo before its device).
    UniqueFd card_;
    std::unique_ptr<gbm_device, DeviceDeleter> device_;
    std::unique_ptr<gbm_bo, BoDeleter> bo_;
    UniqueFd dmabuf_;
    uint32_t stride_ = 0;
};

} // namespace syncway::vm
