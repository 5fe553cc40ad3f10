#include "gbm_buffer.hpp"

#include "../probes/drm_card.hpp"

#include <fcntl.h>
#include <gbm.h>

#include <cerrno>
#include <cstring>

namespace syncway::vm {

void GbmBuffer::DeviceDeleter::operator()(gbm_device* d) const { gbm_device_destroy(d); }
void GbmBuffer::BoDeleter::operator()(gbm_bo* b) const { gbm_bo_destroy(b); }

Result<GbmBuffer> GbmBuffer::create(const std::string& driver, uint32_t width, uint32_t height, uint32_t argb)
{
    auto cards = list_drm_cards();
    if (!cards)
        return cards.error();
    const DrmCard* card = nullptr;
    for (const DrmCard& c : *cards)
        if (c.driver == driver)
            card = &c;
    if (!card)
        return make_error(ENODEV, "no DRM card driven by " + driver);

    GbmBuffer b;
    b.card_.reset(open(card->node.c_str(), O_RDWR | O_CLOEXEC));
    if (!b.card_)
        return make_error(errno, card->node + ": " + std::strerror(errno));
    b.device_.reset(gbm_create_device(b.card_.get()));
    if (!b.device_)
        return make_error(EIO, "gbm_create_device on " + card->node + " failed");
    b.bo_.reset(gbm_bo_create(b.device_.get(), width, height, GBM_FORMAT_ARGB8888,
                              GBM_BO_USE_RENDERING | GBM_BO_USE_LINEAR));
    if (!b.bo_)
        return make_error(errno ? errno : EIO, "gbm_bo_create " + std::to_string(width) + "x" + std::to_string(height) +
                                                   " LINEAR ARGB8888 on " + card->node + " (" +
                                                   gbm_device_get_backend_name(b.device_.get()) + ") failed");
    uint32_t map_stride = 0;
    void* map_data = nullptr;
    void* pixels = gbm_bo_map(b.bo_.get(), 0, 0, width, height, GBM_BO_TRANSFER_WRITE, &map_stride, &map_data);
    if (!pixels)
        return make_error(errno ? errno : EIO, "gbm_bo_map for writing failed");
    for (uint32_t y = 0; y < height; ++y) {
        auto* row = reinterpret_cast<uint32_t*>(static_cast<unsigned char*>(pixels) + size_t{y} * map_stride);
        for (uint32_t x = 0; x < width; ++x)
            row[x] = argb;
    }
    gbm_bo_unmap(b.bo_.get(), map_data);
    b.dmabuf_.reset(gbm_bo_get_fd(b.bo_.get()));
    if (!b.dmabuf_)
        return make_error(errno ? errno : EIO, "gbm_bo_get_fd failed");
    b.stride_ = gbm_bo_get_stride(b.bo_.get());
    return b;
}

} // namespace syncway::vm
