#include "heap_allocator.hpp"

#include <syncway/heaps/buffer_layout.hpp>
#include <syncway/heaps/cpu_access.hpp>
#include <syncway/mapping.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace syncway {
namespace {

struct HeapAllocator {
    wlr_allocator base; // first: wlroots hands us &base
    heaps::Allocator allocator;
    heaps::BufferSource source;
    std::string label;
};
static_assert(std::is_standard_layout_v<wlr_allocator>);

struct HeapBuffer {
    wlr_buffer base; // first: wlroots hands us &base
    heaps::Buffer memory;
    Mapping mapping;
    uint32_t format = 0;
    uint32_t stride = 0;
    uint64_t modifier = DRM_FORMAT_MOD_INVALID;
    // The DMA_BUF_IOCTL_SYNC bracket of the CPU access in progress, if any.
    std::optional<heaps::CpuAccess> access;
};


HeapBuffer* buffer_from(wlr_buffer* buffer) { return reinterpret_cast<HeapBuffer*>(buffer); }
HeapAllocator* allocator_from(wlr_allocator* allocator) { return reinterpret_cast<HeapAllocator*>(allocator); }

void destroy_buffer(wlr_buffer* buffer)
{
    // The mapping and the fd go with the object (RAII); a bracket still open is ended first.
    delete buffer_from(buffer);
}

bool get_dmabuf(wlr_buffer* buffer, wlr_dmabuf_attributes* attribs)
{
    HeapBuffer* self = buffer_from(buffer);
    if (!self->memory.is_dmabuf())
        return false;
    *attribs = {};
    attribs->width = buffer->width;
    attribs->height = buffer->height;
    attribs->format = self->format;
    attribs->modifier = self->modifier;
    attribs->n_planes = 1;
    attribs->offset[0] = 0;
    attribs->stride[0] = self->stride;
    attribs->fd[0] = self->memory.fd.get(); // borrowed: the buffer keeps it
    return true;
}

bool get_shm(wlr_buffer* buffer, wlr_shm_attributes* attribs)
{
    HeapBuffer* self = buffer_from(buffer);
    if (self->memory.is_dmabuf())
        return false;
    *attribs = {};
    attribs->fd = self->memory.fd.get();
    attribs->format = self->format;
    attribs->width = buffer->width;
    attribs->height = buffer->height;
    attribs->stride = static_cast<int>(self->stride);
    attribs->offset = 0;
    return true;
}

bool begin_data_ptr_access(wlr_buffer* buffer, uint32_t flags, void** data, uint32_t* format, size_t* stride)
{
    HeapBuffer* self = buffer_from(buffer);
    heaps::Access access = (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE)
                               ? ((flags & WLR_BUFFER_DATA_PTR_ACCESS_READ) ? heaps::Access::ReadWrite
                                                                             : heaps::Access::Write)
                               : heaps::Access::Read;
    // pixman both reads and writes what it composites: anything but a pure read is read-write.
    if (access == heaps::Access::Write)
        access = heaps::Access::ReadWrite;
    auto bracket = heaps::CpuAccess::begin(self->memory.fd.get(), access);
    if (!bracket) {
        wlr_log(WLR_ERROR, "heap buffer %dx%d: %s", buffer->width, buffer->height, bracket.error().message.c_str());
        return false;
    }
    self->access.emplace(std::move(bracket.value()));
    *data = self->mapping.data();
    *format = self->format;
    *stride = self->stride;
    return true;
}

void end_data_ptr_access(wlr_buffer* buffer)
{
    HeapBuffer* self = buffer_from(buffer);
    if (!self->access)
        return;
    if (Status ended = self->access->end(); !ended)
        wlr_log(WLR_ERROR, "heap buffer %dx%d: %s", buffer->width, buffer->height, ended.error().message.c_str());
    self->access.reset();
}

const wlr_buffer_impl heap_buffer_impl = {
    .destroy = destroy_buffer,
    .get_dmabuf = get_dmabuf,
    .get_shm = get_shm,
    .begin_data_ptr_access = begin_data_ptr_access,
    .end_data_ptr_access = end_data_ptr_access,
};

bool has_modifier(const wlr_drm_format* format, uint64_t modifier)
{
    for (size_t i = 0; i < format->len; ++i)
        if (format->modifiers[i] == modifier)
            return true;
    return false;
}

wlr_buffer* create_buffer(wlr_allocator* base, int width, int height, const wlr_drm_format* format)
{
    HeapAllocator* self = allocator_from(base);
    std::string what = std::to_string(width) + "x" + std::to_string(height) + " " +
                       heaps::fourcc_name(format->format) + " buffer from " + self->source.describe();
    // Our buffers are linear. LINEAR when the consumer lists it; else the implicit modifier
    // (INVALID), which the consumer must have allowed (wlroots' allocator contract).
    uint64_t modifier = DRM_FORMAT_MOD_INVALID;
    if (has_modifier(format, DRM_FORMAT_MOD_LINEAR))
        modifier = DRM_FORMAT_MOD_LINEAR;
    else if (format->len > 0 && !has_modifier(format, DRM_FORMAT_MOD_INVALID)) {
        wlr_log(WLR_ERROR, "cannot make a %s: its consumer takes neither LINEAR nor the implicit modifier",
                what.c_str());
        return nullptr;
    }
    if (width <= 0 || height <= 0) {
        wlr_log(WLR_ERROR, "cannot make a %s: empty size", what.c_str());
        return nullptr;
    }
    auto layout = heaps::compute_layout(format->format, static_cast<uint32_t>(width), static_cast<uint32_t>(height));
    if (!layout) {
        wlr_log(WLR_ERROR, "cannot make a %s: %s", what.c_str(), layout.error().message.c_str());
        return nullptr;
    }
    auto memory = self->allocator.allocate(self->source.request(layout->alloc_size, self->label));
    if (!memory) {
        wlr_log(WLR_ERROR, "cannot make a %s: %s", what.c_str(), memory.error().message.c_str());
        return nullptr;
    }
    auto mapping = memory->map();
    if (!mapping) {
        wlr_log(WLR_ERROR, "cannot make a %s: %s", what.c_str(), mapping.error().message.c_str());
        return nullptr;
    }
    auto* buffer = new HeapBuffer{};
    buffer->memory = std::move(memory.value());
    buffer->mapping = std::move(mapping.value());
    buffer->format = format->format;
    buffer->stride = layout->stride;
    buffer->modifier = modifier;
    wlr_buffer_init(&buffer->base, &heap_buffer_impl, width, height);
    return &buffer->base;
}

void destroy_allocator(wlr_allocator* base)
{
    delete allocator_from(base);
}

const wlr_allocator_interface heap_allocator_impl = {
    .create_buffer = create_buffer,
    .destroy = destroy_allocator,
};

} // namespace

AllocatorPtr create_heap_allocator(heaps::Allocator allocator, heaps::BufferSource source, std::string label)
{
    auto* self = new HeapAllocator{{}, std::move(allocator), std::move(source), std::move(label)};
    // Every buffer can be mapped for pixman; dma-bufs go to KMS and linux-dmabuf, memfds to wl_shm.
    uint32_t caps = WLR_BUFFER_CAP_DATA_PTR |
                    (self->source.is_dmabuf() ? WLR_BUFFER_CAP_DMABUF : WLR_BUFFER_CAP_SHM);
    wlr_allocator_init(&self->base, &heap_allocator_impl, caps);
    return AllocatorPtr(&self->base);
}

bool is_heap_allocator(const wlr_allocator* allocator)
{
    return allocator && allocator->impl == &heap_allocator_impl;
}

const heaps::BufferSource* heap_allocator_source(const wlr_allocator* allocator)
{
    if (!is_heap_allocator(allocator))
        return nullptr;
    return &reinterpret_cast<const HeapAllocator*>(allocator)->source;
}

bool is_heap_buffer(wlr_buffer* buffer)
{
    return buffer && buffer->impl == &heap_buffer_impl;
}

} // namespace syncway
