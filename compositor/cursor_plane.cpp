#include "cursor_plane.hpp"

#include "linear_buffer.hpp"

#include <xf86drm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace syncway {
std::unique_ptr<CursorPlane> CursorPlane::create(wlr_output* output, wlr_allocator* allocator)
{
    if (!wlr_output_is_drm(output) || !output->impl->set_cursor || !output->impl->move_cursor)
        return nullptr;
    // wlroots' switch for software cursors (WLR_NO_HARDWARE_CURSORS=1) applies to our plane
    // too: it is how the VM tier's benchmark measures the software baseline.
    if (const char* env = std::getenv("WLR_NO_HARDWARE_CURSORS"); env && std::strcmp(env, "1") == 0)
        return nullptr;
    int drm_fd = wlr_backend_get_drm_fd(output->backend);
    uint64_t width = 64, height = 64;  // the kernel's default when the caps are missing
    if (drm_fd >= 0) {
        drmGetCap(drm_fd, DRM_CAP_CURSOR_WIDTH, &width);
        drmGetCap(drm_fd, DRM_CAP_CURSOR_HEIGHT, &height);
    }
    // wlr_drm_format ends in a flexible array: room for exactly one modifier, LINEAR.
    alignas(wlr_drm_format) unsigned char storage[sizeof(wlr_drm_format) + sizeof(uint64_t)] = {};
    auto* format = new (storage) wlr_drm_format;
    format->format = DRM_FORMAT_ARGB8888;
    format->len = 1;
    format->capacity = 1;
    format->modifiers[0] = DRM_FORMAT_MOD_LINEAR;
    BufferPtr buffer(
        wlr_allocator_create_buffer(allocator, static_cast<int>(width), static_cast<int>(height), format));
    // Dumb buffers are linear, but reported with the implicit modifier: say LINEAR.
    if (buffer)
        buffer = wrap_as_linear(std::move(buffer));
    if (!buffer) {
        wlr_log(WLR_INFO, "output %s: cannot allocate a %llux%llu LINEAR ARGB8888 cursor buffer; software cursor",
                output->name, static_cast<unsigned long long>(width), static_cast<unsigned long long>(height));
        return nullptr;
    }
    return std::unique_ptr<CursorPlane>(new CursorPlane(output, std::move(buffer)));
}

CursorPlane::CursorPlane(wlr_output* output, BufferPtr buffer) : output_(output), buffer_(std::move(buffer))
{
    destroy_.connect(&output_->events.destroy, [this](void*) {
        destroy_.disconnect();
        output_ = nullptr;
    });
}

CursorPlane::~CursorPlane() { hide(); }

bool CursorPlane::show(const wlr_xcursor_image* image)
{
    if (!output_)
        return false;
    if (image != image_) {
        void* data = nullptr;
        uint32_t format = 0;
        size_t stride = 0;
        if (!wlr_buffer_begin_data_ptr_access(buffer_.get(), WLR_BUFFER_DATA_PTR_ACCESS_WRITE, &data, &format,
                                              &stride)) {
            wlr_log(WLR_ERROR, "output %s: the cursor buffer cannot be mapped for writing", output_->name);
            return false;
        }
        // xcursor pixels are premultiplied ARGB8888 rows, as the plane wants them.
        auto* dst = static_cast<uint8_t*>(data);
        int width = buffer_->width, height = buffer_->height;
        for (int y = 0; y < height; ++y)
            std::memset(dst + y * stride, 0, static_cast<size_t>(width) * 4);
        int copy_w = std::min<int>(width, static_cast<int>(image->width));
        int copy_h = std::min<int>(height, static_cast<int>(image->height));
        for (int y = 0; y < copy_h; ++y)
            std::memcpy(dst + y * stride, image->buffer + static_cast<size_t>(y) * image->width * 4,
                        static_cast<size_t>(copy_w) * 4);
        wlr_buffer_end_data_ptr_access(buffer_.get());
        image_ = image;
    }
    shown_ = output_->impl->set_cursor(output_, buffer_.get(), static_cast<int>(image->hotspot_x),
                                       static_cast<int>(image->hotspot_y));
    if (!shown_)
        wlr_log(WLR_ERROR, "output %s: the backend refused a %dx%d LINEAR ARGB8888 cursor buffer", output_->name,
                buffer_->width, buffer_->height);
    return shown_;
}

void CursorPlane::hide()
{
    if (output_ && shown_)
        output_->impl->set_cursor(output_, nullptr, 0, 0);
    shown_ = false;
}

void CursorPlane::move(double x, double y)
{
    if (!output_ || !shown_)
        return;
    // The backend wants buffer pixels of the (untransformed) output; it applies the
    // transform and hot spot itself.
    output_->impl->move_cursor(output_, static_cast<int>(std::lround(x * output_->scale)),
                               static_cast<int>(std::lround(y * output_->scale)));
}

} // namespace syncway
