#include "output_buffers.hpp"

#include "heap_allocator.hpp"

#include <syncway/heaps/buffer_layout.hpp>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace syncway {
namespace {

std::string driver_name(int drm_fd)
{
    std::unique_ptr<drmVersion, decltype(&drmFreeVersion)> version(drmGetVersion(drm_fd), drmFreeVersion);
    return version && version->name ? std::string(version->name, version->name_len) : std::string("unknown");
}

std::string errno_text(int err) { return std::strerror(err); }

} // namespace

Status drm_imports(int drm_fd, int dmabuf_fd, uint32_t width, uint32_t height, uint32_t stride, uint32_t format)
{
    std::string driver = driver_name(drm_fd);
    uint32_t handle = 0;
    if (drmPrimeFDToHandle(drm_fd, dmabuf_fd, &handle) != 0) {
        int err = errno;
        return make_error(err, "the DRM driver " + driver + " refuses to import it (PRIME: " + errno_text(err) + ")");
    }
    uint32_t handles[4] = {handle}, pitches[4] = {stride}, offsets[4] = {0};
    uint32_t fb = 0;
    int added = drmModeAddFB2(drm_fd, width, height, format, handles, pitches, offsets, &fb, 0);
    int err = added != 0 ? errno : 0;
    if (added == 0)
        drmModeRmFB(drm_fd, fb);
    drmCloseBufferHandle(drm_fd, handle);
    if (added != 0)
        return make_error(err, "the DRM driver " + driver + " imports it but refuses it as a framebuffer (AddFB2: " +
                                   errno_text(err) + ")");
    return Ok{};
}

OutputBuffers::OutputBuffers(heaps::HeapSelection selection, heaps::AllocatorPaths paths,
                             wlr_allocator* wlroots_allocator, bool pixman)
    : selection_(std::move(selection)), allocator_(std::move(paths)), wlroots_allocator_(wlroots_allocator),
      pixman_(pixman)
{
}

wlr_allocator* OutputBuffers::allocator_for(const heaps::BufferSource& source)
{
    std::string key = source.describe();
    auto& slot = heap_allocators_[key];
    if (!slot)
        slot = create_heap_allocator(allocator_, source, "syncway-framebuffer");
    return slot.get();
}

Result<OutputBuffers::Choice> OutputBuffers::choose(wlr_output* output, int width, int height)
{
    using Kind = heaps::HeapSelection::Kind;
    const std::string asked = "--buffer-heap " + heaps::describe(selection_);
    auto wlroots = [&](const std::string& why) {
        return Choice{wlroots_allocator_, "wlroots' allocator (" + why + ")"};
    };
    if (selection_.kind == Kind::None)
        return wlroots(asked);
    if (!pixman_) {
        // Refused at start-up for an explicit heap (server.cpp); auto leaves GPU renderers alone.
        return wlroots(asked + ": the gles2 renderer draws into buffers of its own GPU");
    }

    bool drm = wlr_output_is_drm(output);
    bool nested = wlr_output_is_wl(output) || wlr_output_is_x11(output);
    heaps::HeapSelection selection = selection_;
    if (nested && selection.kind == Kind::Auto) {
        // wlroots 0.15 hands a nested output's dma-bufs to the parent compositor with
        // create_immed: a parent that cannot import one answers with a protocol error that ends
        // our connection. memfds through wl_shm every parent takes.
        heaps::BufferSource memfd;
        memfd.backend = heaps::Backend::Memfd;
        memfd.reason = asked + ": nested, where a parent compositor refusing a dma-buf would disconnect us; "
                               "memfds go through wl_shm";
        return Choice{allocator_for(memfd), memfd.describe() + ": " + memfd.reason};
    }

    auto layout = heaps::compute_layout(DRM_FORMAT_XRGB8888, static_cast<uint32_t>(width),
                                        static_cast<uint32_t>(height));
    if (!layout)
        return make_error(layout.error().code, asked + ": " + layout.error().message);
    // KMS and a nested parent through linux-dmabuf take dma-bufs only; headless anything.
    bool need_dmabuf = drm || nested;
    auto resolved = heaps::resolve_source(allocator_, selection, layout->alloc_size, need_dmabuf,
                                          "syncway-framebuffer-probe");
    if (!resolved) {
        if (selection.kind == Kind::Auto)
            return wlroots(resolved.error().message);
        return resolved.error();
    }
    if (drm) {
        Status imported = drm_imports(wlr_backend_get_drm_fd(output->backend), resolved->buffer.fd.get(),
                                      static_cast<uint32_t>(width), static_cast<uint32_t>(height), layout->stride,
                                      DRM_FORMAT_XRGB8888);
        if (!imported) {
            std::string why = resolved->source.describe() + " buffer: " + imported.error().message;
            if (selection.kind == Kind::Auto)
                return wlroots(asked + ": a " + why);
            return make_error(imported.error().code, asked + ": a " + why);
        }
    }
    const heaps::BufferSource& source = resolved->source;
    return Choice{allocator_for(source), source.describe() + ": " + source.reason};
}

} // namespace syncway
