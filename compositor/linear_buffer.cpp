#include "linear_buffer.hpp"

#include <type_traits>

namespace syncway {
namespace {

struct LinearBuffer {
    wlr_buffer base;  // first: wlroots hands us &base
    wlr_buffer* inner;

    static LinearBuffer* from(wlr_buffer* buffer) { return reinterpret_cast<LinearBuffer*>(buffer); }

    static void destroy(wlr_buffer* buffer)
    {
        LinearBuffer* self = from(buffer);
        wlr_buffer_drop(self->inner);
        delete self;
    }
    static bool get_dmabuf(wlr_buffer* buffer, wlr_dmabuf_attributes* attribs)
    {
        if (!wlr_buffer_get_dmabuf(from(buffer)->inner, attribs))
            return false;
        attribs->modifier = DRM_FORMAT_MOD_LINEAR;
        return true;
    }
    static bool begin_data_ptr_access(wlr_buffer* buffer, uint32_t flags, void** data, uint32_t* format,
                                      size_t* stride)
    {
        return wlr_buffer_begin_data_ptr_access(from(buffer)->inner, flags, data, format, stride);
    }
    static void end_data_ptr_access(wlr_buffer* buffer) { wlr_buffer_end_data_ptr_access(from(buffer)->inner); }
};
static_assert(std::is_standard_layout_v<LinearBuffer>);

const wlr_buffer_impl linear_buffer_impl = {
    .destroy = LinearBuffer::destroy,
    .get_dmabuf = LinearBuffer::get_dmabuf,
    .get_shm = nullptr,
    .begin_data_ptr_access = LinearBuffer::begin_data_ptr_access,
    .end_data_ptr_access = LinearBuffer::end_data_ptr_access,
};

} // namespace

BufferPtr wrap_as_linear(BufferPtr inner)
{
    wlr_dmabuf_attributes attribs{};
    if (!inner || !wlr_buffer_get_dmabuf(inner.get(), &attribs))
        return nullptr;
    auto* self = new LinearBuffer{};
    self->inner = inner.release();
    wlr_buffer_init(&self->base, &linear_buffer_impl, self->inner->width, self->inner->height);
    return BufferPtr(&self->base);
}

} // namespace syncway
