// Release points (linux-drm-syncobj-v1): each commit's release point is signaled once syncway
// no longer needs the buffer that commit attached *for that commit*.
//
// Per commit: when a later commit of the same surface that attached the same buffer is applied,
// the earlier commits' points are signaled right then: that later commit's own release point
// now covers the buffer (the protocol: a point is signaled "assuming the associated buffer is not
// pending release from other wl_surface.commit requests"). A client that re-commits one buffer
// and waits for the previous point is never stalled.
//
// Otherwise, when the buffer itself is let go: wlroots locks a wlr_buffer while any surface state (pending, cached, current) or
// the renderer's texture holds it; with pixman the texture samples the client's memory directly
// and keeps it until the surface's buffer is replaced or destroyed. The buffer's `release`
// event (lock count back to 0) is the moment nothing of ours reads it any more. A buffer shown on
// several surfaces at once is released when the last one lets go, so every point waiting on it is
// signaled then (late for the earlier ones, never early).
// With gles2, wlroots 0.15 lets go of a dma-buf once the last frame sampling it is submitted
// (glFlush), not once the GPU has run it (it has no renderer timelines). The GPU's reads are
// fences on the dma-buf (implicit sync), so such a buffer's points wait for them too: POLLOUT on
// a dma-buf fd waits for every fence on it.
#pragma once

#include "timeline_point.hpp"

#include "../wlr.hpp"

#include <list>
#include <memory>
#include <unordered_set>
#include <vector>

namespace syncway {

class Server;

class ReleasePoints {
public:
    explicit ReleasePoints(Server& server);
    // Signals every point still waiting: buffers can outlive their clients (e.g. on screen)
    // and the timelines go away after this.
    ~ReleasePoints();
    ReleasePoints(const ReleasePoints&) = delete;
    ReleasePoints& operator=(const ReleasePoints&) = delete;

    // The release point of commit `seq` of `surface`, which attaches `buffer`: signaled once a
    // later commit of the surface re-attaching the buffer is applied, or wlroots lets go of the
    // buffer (and a GPU renderer's reads of it have finished), whichever comes first.
    void add(wlr_surface* surface, uint32_t seq, wlr_buffer* buffer, TimelinePoint point);
    // Signals `point` at once (and tells the recorder).
    void signal_now(const TimelinePoint& point);

private:
    class BufferWatch;
    class SurfaceWatch;
    class FencedRelease;
    struct Pending {
        wlr_surface* surface;
        uint32_t seq;
        TimelinePoint point;
    };

    // A state of `surface` became current: earlier commits of it that attached the same buffer
    // are replaced for good.
    void state_applied(wlr_surface* surface, uint32_t seq, wlr_buffer* buffer);
    void surface_gone(wlr_surface* surface);

    // wlroots let go of the buffer: its points are due, after the GPU's reads on a GPU renderer.
    void buffer_released(wlr_buffer* buffer, std::vector<Pending>& points);
    void signal_all(std::vector<Pending>& points);
    // Signals a fenced release's points and destroys it.
    void complete(FencedRelease* fenced);
    void remove(BufferWatch* watch) { watches_.erase(watch); }
    void remove(SurfaceWatch* watch) { surfaces_.erase(watch); }

    Server& server_;
    bool gpu_renderer_;  // samples dma-bufs on a GPU (gles2), not through CPU pointers
    std::unordered_set<BufferWatch*> watches_;
    std::unordered_set<SurfaceWatch*> surfaces_;
    std::list<std::unique_ptr<FencedRelease>> fenced_;
};

} // namespace syncway
