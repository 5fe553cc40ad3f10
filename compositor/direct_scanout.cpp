#include "direct_scanout.hpp"

#include <syncway/heaps/buffer_layout.hpp>

#include <string>

namespace syncway {

bool DirectScanout::show(wlr_surface* surface, bool primary_output, wlr_presentation* presentation)
{
    wlr_buffer* committed = &surface->buffer->base;
    // Each commit of a dma-buf makes a new client buffer, so the same one means nothing new
    // to show. A frame asked for anyway (needs_frame: a cursor-plane move, which wlroots' DRM
    // backend applies only with a page flip) commits it again; otherwise committing the same
    // buffer would only flip to it at every vblank.
    if (committed == on_plane_ && !output_->needs_frame)
        return true;

    // The plane gets the client's own wl_buffer, not the per-commit client buffer wrapping it:
    // the DRM backend keeps its framebuffer (and the kernel its import of the dma-buf) with
    // the buffer it was made for, so a client cycling through a few buffers is imported once
    // per buffer instead of once per frame. Locked by the backend while on the plane, it is
    // released, and its release point signaled, once the plane has flipped away from it.
    wlr_buffer* buffer = surface->buffer->source ? surface->buffer->source : committed;
    wlr_dmabuf_attributes dmabuf{};
    if (!wlr_buffer_get_dmabuf(buffer, &dmabuf)) {
        refused(NotDmabuf, buffer);
        return false;
    }
    wlr_output_attach_buffer(output_, buffer);
    if (!wlr_output_test(output_)) {
        wlr_output_rollback(output_);
        refused(TestFailed, buffer);
        return false;
    }
    if (presentation && primary_output)
        wlr_presentation_surface_sampled_on_output(presentation, surface, output_);
    if (!wlr_output_commit(output_)) {
        refused(CommitFailed, buffer);
        forget();
        return false;
    }
    if (committed != on_plane_) {
        forget();
        on_plane_ = committed;
        on_plane_destroy_.connect(&committed->events.destroy, [this](void*) { forget(); });
    }
    return true;
}

void DirectScanout::forget()
{
    on_plane_ = nullptr;
    on_plane_destroy_.disconnect();
}

void DirectScanout::refused(Refusal why, wlr_buffer* buffer)
{
    if (logged_ & why)
        return;
    logged_ |= why;
    std::string what = std::to_string(buffer->width) + "x" + std::to_string(buffer->height) + " client buffer";
    wlr_dmabuf_attributes dmabuf{};
    if (wlr_buffer_get_dmabuf(buffer, &dmabuf))
        what = std::to_string(buffer->width) + "x" + std::to_string(buffer->height) + " " +
               heaps::fourcc_name(dmabuf.format) + " client dma-buf";
    const char* reason = why == NotDmabuf    ? "it is not a dma-buf (wl_shm or memfd memory), which KMS cannot scan out"
                         : why == TestFailed ? "the display refused it (import or atomic test; -v shows wlroots' reason)"
                                             : "the commit failed";
    wlr_log(WLR_INFO, "output %s: direct scan-out of a %s not possible, compositing it: %s (logged once)",
            output_->name, what.c_str(), reason);
}

} // namespace syncway
