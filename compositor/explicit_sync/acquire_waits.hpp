// Commits held until their acquire point is signaled (linux-drm-syncobj-v1).
//
// A commit whose acquire point is not signaled yet is held at the commit gate (its state cached
// by wlroots, see commit_gate.hpp); later commits of the surface queue behind it, as the
// protocol requires. For the oldest held commit one wait is armed: an eventfd in the event loop
// (a kernel timeline's is written by the kernel), or, for a timeline of the embedded syncobj
// service, the service's own dispatch reports it in-process (on_host_dispatch), which saves a
// trip through epoll. When the point resolves, that commit and every held commit after it
// whose point has already resolved are applied, oldest first.
//
// A point that fails (its signaler died) or can never be signaled (its timeline died before
// the point was submitted) must not show its buffer: the buffer is taken out of the cached
// state (drop_cached_buffer.hpp) and the rest of the commit applies. Logged.
#pragma once

#include "timeline_point.hpp"

#include "../commit_gate.hpp"

#include <unordered_set>

namespace syncway {

class Server;

class AcquireWaits {
public:
    explicit AcquireWaits(Server& server);
    ~AcquireWaits();
    AcquireWaits(const AcquireWaits&) = delete;
    AcquireWaits& operator=(const AcquireWaits&) = delete;

    // Holds `commit` until `acquire` has resolved. The commit may be refused instead (the
    // client is over --limit-held-commits or --limit-waits).
    void hold(Commit& commit, TimelinePoint acquire);

    // Called by the timeline host's dispatch, before it cleans up after the signals it handled:
    // applies the commits whose service-timeline waits that dispatch resolved.
    void on_host_dispatch();

private:
    class SurfaceQueue;
    friend class SurfaceQueue;

    Server& server_;
    std::unordered_set<SurfaceQueue*> queues_;  // surfaces with held commits
    std::unordered_set<SurfaceQueue*> armed_;   // ... whose oldest commit has a wait armed
    int64_t woke_ns_ = 0;  // when recording: when the loop handed us the current event
};

} // namespace syncway
