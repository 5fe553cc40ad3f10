// The DRM cursor plane, driven by us when wlroots 0.15 will not (docs/DESIGN.md §3, wlroots 0.15.1): with the pixman
// renderer, wlr_output_cursor intersects the cursor plane's formats (LINEAR only, when the
// driver lacks modifiers) with pixman's render formats (implicit modifier only), finds nothing
// and falls back to a software cursor. The plane itself is fine with a LINEAR ARGB8888 buffer,
// which the DRM dumb allocator makes (reported as implicit, so we relabel it LINEAR, see
// linear_buffer.hpp): so we allocate one of the plane's size, fill it on the CPU (an xcursor
// image, or a client's cursor surface converted and scaled with pixman), and hand it to the
// backend through the output's impl (set_cursor / move_cursor in wlr/interfaces/wlr_output.h).
// The next output commit puts it on the plane.
#pragma once

#include "listener.hpp"
#include "wlr_ptr.hpp"

#include <syncway/result.hpp>

#include <memory>

namespace syncway {

class CursorPlane {
public:
    // nullptr (reason logged once) if the output has no cursor plane or no LINEAR ARGB8888
    // buffer can be allocated for it.
    // `software_only` (WLR_NO_HARDWARE_CURSORS=1): none, as wlroots does for its own cursors.
    static std::unique_ptr<CursorPlane> create(wlr_output* output, wlr_allocator* allocator, bool software_only);
    ~CursorPlane();
    CursorPlane(const CursorPlane&) = delete;

    // Fill the plane's buffer (not yet shown: see show()). Errors say why the image cannot go
    // on the plane (too large for it, a buffer transform, a format pixman cannot read, ...);
    // the buffer's previous content may then be lost.
    Status draw(const wlr_xcursor_image* image);
    // The surface's current buffer at the output's scale (its buffer scale respected).
    Status draw(wlr_surface* surface);
    // Puts the buffer on the plane with the hot spot in buffer pixels; false if the backend
    // refused (then the caller uses software).
    bool show(int hotspot_x, int hotspot_y);
    void hide();
    // Output-local position of the cursor's hot spot, in layout (logical) pixels.
    void move(double x, double y);
    // The client cursor surface the plane shows (nullptr: none). Like a cursor wlroots draws,
    // it gets wl_surface.enter/leave for the output and frame done when the output commits.
    void set_client_surface(wlr_surface* surface);
    // That surface is being destroyed: forget it without a leave event.
    void forget_client_surface() { client_surface_ = nullptr; }

    wlr_output* output() const { return output_; }
    bool alive() const { return output_ != nullptr; }
    bool shown() const { return shown_; }
    int width() const { return buffer_->width; }
    int height() const { return buffer_->height; }

private:
    CursorPlane(wlr_output* output, BufferPtr buffer);

    wlr_output* output_;
    BufferPtr buffer_;
    bool shown_ = false;
    const wlr_xcursor_image* image_ = nullptr;  // the xcursor image the buffer holds, if any
    wlr_surface* client_surface_ = nullptr;
    Listener commit_;
    Listener destroy_;
};

} // namespace syncway
