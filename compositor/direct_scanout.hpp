// Direct scan-out on one KMS output: a frame that scanout_choice.hpp found fit shows the client
// surface's buffer on the primary plane instead of a composite, when the display takes it.
//
// The display decides through wlr_output_test: wlroots' DRM backend asks the client's wl_buffer
// (its wlr_buffer, see linux_dmabuf_v1.cpp) for its dma-buf, imports it (PRIME, AddFB2) and
// tests the atomic commit. A buffer it refuses is composited;
// each kind of refusal is logged once per output, not once per frame.
//
// Explicit sync needs nothing more here: a commit whose acquire point has not signaled never
// becomes the surface's current state (the commit gate holds it), so only acquired buffers are
// ever scanned out; and the DRM backend keeps the buffer locked while the plane shows it
// (until the page flip to the next framebuffer completes), so its release, and with it the
// release point (explicit_sync/release_points.hpp), comes only once it is off the screen.
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

namespace syncway {

class DirectScanout {
public:
    explicit DirectScanout(wlr_output* output) : output_(output) {}
    DirectScanout(const DirectScanout&) = delete;
    DirectScanout& operator=(const DirectScanout&) = delete;

    // Shows the surface's current buffer on the primary plane and commits the output; true
    // when the frame is done that way (also when that buffer is on the plane already and
    // nothing asks for a new frame), false when it must be composited. `presentation`, if
    // given, hears that the surface was sampled (only for its primary output).
    bool show(wlr_surface* surface, bool primary_output, wlr_presentation* presentation);
    // This frame is composited: the plane no longer shows a client buffer.
    void composited() { forget(); }

private:
    enum Refusal : unsigned { NotDmabuf = 1u << 0, TestFailed = 1u << 1, CommitFailed = 1u << 2 };
    void refused(Refusal why, wlr_buffer* buffer);
    void forget();

    wlr_output* output_;
    // The surface's client buffer (one per commit) whose wl_buffer went to the plane last,
    // while it exists (the surface keeps it until its next commit applies).
    wlr_buffer* on_plane_ = nullptr;
    Listener on_plane_destroy_;
    unsigned logged_ = 0;  // Refusal bits already logged
};

} // namespace syncway
