#include "cursor_plane.hpp"

#include "heap_allocator.hpp"
#include "linear_buffer.hpp"

#include <xf86drm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace syncway {
namespace {

// The pixman format reading a DRM fourcc's pixels (little-endian: DRM names bits of a word,
// pixman too); 0 when pixman has none.
pixman_format_code_t pixman_format_of(uint32_t drm_format)
{
    switch (drm_format) {
    case DRM_FORMAT_ARGB8888: return PIXMAN_a8r8g8b8;
    case DRM_FORMAT_XRGB8888: return PIXMAN_x8r8g8b8;
    case DRM_FORMAT_ABGR8888: return PIXMAN_a8b8g8r8;
    case DRM_FORMAT_XBGR8888: return PIXMAN_x8b8g8r8;
    case DRM_FORMAT_RGBA8888: return PIXMAN_r8g8b8a8;
    case DRM_FORMAT_RGBX8888: return PIXMAN_r8g8b8x8;
    case DRM_FORMAT_BGRA8888: return PIXMAN_b8g8r8a8;
    case DRM_FORMAT_BGRX8888: return PIXMAN_b8g8r8x8;
    case DRM_FORMAT_ARGB2101010: return PIXMAN_a2r10g10b10;
    case DRM_FORMAT_XRGB2101010: return PIXMAN_x2r10g10b10;
    case DRM_FORMAT_ABGR2101010: return PIXMAN_a2b10g10r10;
    case DRM_FORMAT_XBGR2101010: return PIXMAN_x2b10g10r10;
    case DRM_FORMAT_RGB888: return PIXMAN_r8g8b8;
    case DRM_FORMAT_BGR888: return PIXMAN_b8g8r8;
    case DRM_FORMAT_RGB565: return PIXMAN_r5g6b5;
    case DRM_FORMAT_BGR565: return PIXMAN_b5g6r5;
    default: return static_cast<pixman_format_code_t>(0);
    }
}

using PixmanImagePtr = std::unique_ptr<pixman_image_t, WlrDeleter<pixman_image_unref>>;

// CPU access to a buffer for the length of a scope.
class DataAccess {
public:
    DataAccess(wlr_buffer* buffer, uint32_t flags) : buffer_(buffer)
    {
        ok_ = buffer_ && wlr_buffer_begin_data_ptr_access(buffer_, flags, &data, &format, &stride);
    }
    ~DataAccess()
    {
        if (ok_)
            wlr_buffer_end_data_ptr_access(buffer_);
    }
    DataAccess(const DataAccess&) = delete;
    explicit operator bool() const { return ok_; }

    void* data = nullptr;
    uint32_t format = 0;
    size_t stride = 0;

private:
    wlr_buffer* buffer_;
    bool ok_ = false;
};

std::string fourcc(uint32_t format)
{
    char name[5] = {static_cast<char>(format), static_cast<char>(format >> 8), static_cast<char>(format >> 16),
                    static_cast<char>(format >> 24), 0};
    return name;
}

} // namespace

std::unique_ptr<CursorPlane> CursorPlane::create(wlr_output* output, wlr_allocator* allocator, bool software_only)
{
    if (!wlr_output_is_drm(output) || !output->impl->set_cursor || !output->impl->move_cursor)
        return nullptr;
    // wlroots' switch for software cursors (WLR_NO_HARDWARE_CURSORS=1) applies to our plane
    // too: it is how the VM tier's benchmark measures the software baseline.
    if (software_only)
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
    // Dumb buffers are linear, but reported with the implicit modifier: say LINEAR. (Heap
    // buffers already say LINEAR when asked for it; wrapping them changes nothing.)
    if (buffer)
        buffer = wrap_as_linear(std::move(buffer));
    if (!buffer) {
        wlr_log(WLR_INFO, "output %s: cannot allocate a %llux%llu LINEAR ARGB8888 cursor buffer; software cursor",
                output->name, static_cast<unsigned long long>(width), static_cast<unsigned long long>(height));
        return nullptr;
    }
    wlr_log(WLR_INFO, "output %s: cursor plane buffer %dx%d from %s", output->name, buffer->width, buffer->height,
            is_heap_allocator(allocator) ? heap_allocator_source(allocator)->describe().c_str() : "wlroots' allocator");
    return std::unique_ptr<CursorPlane>(new CursorPlane(output, std::move(buffer)));
}

CursorPlane::CursorPlane(wlr_output* output, BufferPtr buffer) : output_(output), buffer_(std::move(buffer))
{
    destroy_.connect(&output_->events.destroy, [this](void*) {
        destroy_.disconnect();
        commit_.disconnect();
        output_ = nullptr;
    });
    commit_.connect(&output_->events.commit, [this](void* data) {
        auto* event = static_cast<wlr_output_event_commit*>(data);
        if (client_surface_ && shown_ && (event->committed & WLR_OUTPUT_STATE_BUFFER))
            wlr_surface_send_frame_done(client_surface_, event->when);
    });
}

CursorPlane::~CursorPlane()
{
    set_client_surface(nullptr);
    hide();
}

void CursorPlane::set_client_surface(wlr_surface* surface)
{
    if (surface == client_surface_)
        return;
    if (client_surface_ && output_)
        wlr_surface_send_leave(client_surface_, output_);
    client_surface_ = surface;
    if (client_surface_ && output_)
        wlr_surface_send_enter(client_surface_, output_);
}

Status CursorPlane::draw(const wlr_xcursor_image* image)
{
    if (image == image_)
        return Ok{};
    image_ = nullptr;
    DataAccess dst(buffer_.get(), WLR_BUFFER_DATA_PTR_ACCESS_WRITE);
    if (!dst)
        return make_error(EIO, "the cursor buffer cannot be mapped for writing");
    // xcursor pixels are premultiplied ARGB8888 rows, as the plane wants them.
    auto* out = static_cast<uint8_t*>(dst.data);
    int width = buffer_->width, height = buffer_->height;
    for (int y = 0; y < height; ++y)
        std::memset(out + y * dst.stride, 0, static_cast<size_t>(width) * 4);
    int copy_w = std::min<int>(width, static_cast<int>(image->width));
    int copy_h = std::min<int>(height, static_cast<int>(image->height));
    for (int y = 0; y < copy_h; ++y)
        std::memcpy(out + y * dst.stride, image->buffer + static_cast<size_t>(y) * image->width * 4,
                    static_cast<size_t>(copy_w) * 4);
    image_ = image;
    return Ok{};
}

Status CursorPlane::draw(wlr_surface* surface)
{
    image_ = nullptr;
    const wlr_surface_state& state = surface->current;
    if (!surface->buffer)
        return make_error(ENOENT, "the cursor surface has no buffer");
    // The plane shows buffer pixels as they are: what needs more than a scale is left to the
    // renderer (wlroots' software cursor).
    if (state.transform != WL_OUTPUT_TRANSFORM_NORMAL || output_->transform != WL_OUTPUT_TRANSFORM_NORMAL)
        return make_error(ENOTSUP, "a rotated cursor surface or output");
    if (state.viewport.has_src || state.viewport.has_dst)
        return make_error(ENOTSUP, "a cursor surface with a viewport");
    float scale = output_->scale;
    int width = static_cast<int>(std::ceil(state.width * scale)), height = static_cast<int>(std::ceil(state.height * scale));
    if (width > buffer_->width || height > buffer_->height)
        return make_error(E2BIG, "a " + std::to_string(width) + "x" + std::to_string(height) +
                                     " cursor surface (at the output's scale) does not fit the " +
                                     std::to_string(buffer_->width) + "x" + std::to_string(buffer_->height) +
                                     " cursor plane");

    // The client's buffer as the pixman renderer samples it: the texture holds its source
    // wlr_buffer (wl_shm, our linux-dmabuf), mapped for the length of the copy (a wl_shm pool
    // may have moved since the texture was made), else the texture's own image. Other
    // renderers may have updated their texture from a later buffer than the source.
    wlr_texture* texture = surface->buffer->texture;
    if (!texture || !wlr_texture_is_pixman(texture))
        return make_error(ENOTSUP, "a cursor texture that is not the pixman renderer's");
    wlr_buffer* source = surface->buffer->source;
    DataAccess src(source, WLR_BUFFER_DATA_PTR_ACCESS_READ);
    PixmanImagePtr src_image;
    if (src) {
        pixman_format_code_t format = pixman_format_of(src.format);
        if (!format)
            return make_error(ENOTSUP, "a cursor buffer of format " + fourcc(src.format));
        src_image.reset(pixman_image_create_bits_no_clear(format, source->width, source->height,
                                                          static_cast<uint32_t*>(src.data), static_cast<int>(src.stride)));
    } else {
        src_image.reset(pixman_image_ref(wlr_pixman_texture_get_image(texture)));
    }
    if (!src_image)
        return make_error(EIO, "the cursor surface's buffer cannot be read on the CPU");

    DataAccess dst(buffer_.get(), WLR_BUFFER_DATA_PTR_ACCESS_WRITE);
    if (!dst)
        return make_error(EIO, "the cursor buffer cannot be mapped for writing");
    PixmanImagePtr dst_image(pixman_image_create_bits_no_clear(PIXMAN_a8r8g8b8, buffer_->width, buffer_->height,
                                                               static_cast<uint32_t*>(dst.data),
                                                               static_cast<int>(dst.stride)));
    if (!dst_image)
        return make_error(ENOMEM, "cannot wrap the cursor buffer in a pixman image");
    pixman_color_t clear{0, 0, 0, 0};
    pixman_rectangle16_t all{0, 0, static_cast<uint16_t>(buffer_->width), static_cast<uint16_t>(buffer_->height)};
    pixman_image_fill_rectangles(PIXMAN_OP_SRC, dst_image.get(), &clear, 1, &all);
    // Plane pixel (x, y) samples buffer pixel (x, y) * buffer scale / output scale.
    double ratio = state.scale / scale;
    if (ratio != 1.0) {
        pixman_transform_t transform;
        pixman_transform_init_scale(&transform, pixman_double_to_fixed(ratio), pixman_double_to_fixed(ratio));
        pixman_image_set_transform(src_image.get(), &transform);
        pixman_image_set_filter(src_image.get(), PIXMAN_FILTER_BILINEAR, nullptr, 0);
    }
    pixman_image_composite32(PIXMAN_OP_SRC, src_image.get(), nullptr, dst_image.get(), 0, 0, 0, 0, 0, 0, width,
                             height);
    if (ratio != 1.0) {
        // The texture's image is shared with the renderer.
        pixman_image_set_transform(src_image.get(), nullptr);
        pixman_image_set_filter(src_image.get(), PIXMAN_FILTER_NEAREST, nullptr, 0);
    }
    return Ok{};
}

bool CursorPlane::show(int hotspot_x, int hotspot_y)
{
    if (!output_)
        return false;
    shown_ = output_->impl->set_cursor(output_, buffer_.get(), hotspot_x, hotspot_y);
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
