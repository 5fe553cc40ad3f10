// Release points (linux-drm-syncobj-v1): each commit's release point is signaled once syncway
// no longer needs the buffer that commit attached.
//
// When that is: wlroots locks a wlr_buffer while any surface state (pending, cached, current) or
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

    // `point` is signaled once wlroots lets go of `buffer` (and a GPU renderer's reads of it
    // have finished).
    void add(wlr_buffer* buffer, TimelinePoint point);
    // Signals `point` at once (and tells the recorder).
    void signal_now(const TimelinePoint& point);

private:
    class BufferWatch;
    class FencedRelease;

    // wlroots let go of the buffer: its points are due, after the GPU's reads on a GPU renderer.
    void buffer_released(wlr_buffer* buffer, std::vector<TimelinePoint>& points);
    void signal_all(std::vector<TimelinePoint>& points);
    // Signals a fenced release's points and destroys it.
    void complete(FencedRelease* fenced);
    void remove(BufferWatch* watch) { watches_.erase(watch); }

    Server& server_;
    bool gpu_renderer_;  // samples dma-bufs on a GPU (gles2), not through CPU pointers
    std::unordered_set<BufferWatch*> watches_;
    std::list<std::unique_ptr<FencedRelease>> fenced_;
};

} // namespace syncway
