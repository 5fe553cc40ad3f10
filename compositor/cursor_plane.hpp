// The DRM cursor plane, driven by us when wlroots 0.15 will not (DESIGN.md §6): with the pixman
// renderer, wlr_output_cursor intersects the cursor plane's formats (LINEAR only, when the
// driver lacks modifiers) with pixman's render formats (implicit modifier only), finds nothing
// and falls back to a software cursor. The plane itself is fine with a LINEAR ARGB8888 buffer,
// which the DRM dumb allocator makes (reported as implicit, so we relabel it LINEAR, see
// linear_buffer.hpp): so we allocate one of the plane's size, copy the xcursor
// image into it on the CPU, and hand it to the backend through the output's impl (set_cursor /
// move_cursor in wlr/interfaces/wlr_output.h). The next output commit puts it on the plane.
//
// Only xcursor images go on the plane; client cursor surfaces stay software-drawn.
#pragma once

#include "listener.hpp"
#include "wlr_ptr.hpp"

#include <memory>

namespace syncway {

class CursorPlane {
public:
    // nullptr (reason logged once) if the output has no cursor plane or no LINEAR ARGB8888
    // buffer can be allocated for it.
    static std::unique_ptr<CursorPlane> create(wlr_output* output, wlr_allocator* allocator);
    ~CursorPlane();
    CursorPlane(const CursorPlane&) = delete;

    // Puts image on the plane; false if the backend refused (then the caller uses software).
    bool show(const wlr_xcursor_image* image);
    void hide();
    // Output-local position of the cursor's hot spot, in layout (logical) pixels.
    void move(double x, double y);

    wlr_output* output() const { return output_; }
    bool alive() const { return output_ != nullptr; }
    bool shown() const { return shown_; }

private:
    CursorPlane(wlr_output* output, BufferPtr buffer);

    wlr_output* output_;
    BufferPtr buffer_;
    bool shown_ = false;
    const wlr_xcursor_image* image_ = nullptr;  // what the buffer holds
    Listener destroy_;
};

} // namespace syncway
