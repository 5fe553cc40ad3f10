// What linux-drm-syncobj-v1 tells the recorder about explicit-sync commits: their points, when
// a held one's acquire point was seen resolved and applied, and when release points fire.
// The protocol calls these only when a recorder is installed (Server::commit_observer).
#pragma once

#include "../wlr.hpp"

#include <cstdint>
#include <ctime>
#include <memory>

namespace syncway {

namespace syncobj {
class HostedTimeline;
}

class CommitObserver {
public:
    virtual ~CommitObserver() = default;

    static int64_t now_ns()
    {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
    }

    // wl_surface.commit of state `seq` with these points, before wlroots handles it;
    // `acquire_signaled`: the acquire point was already signaled then (the commit is not held).
    virtual void sync_points(wlr_surface* surface, uint32_t seq,
                             const std::shared_ptr<syncobj::HostedTimeline>& acquire_timeline, uint64_t acquire,
                             const syncobj::HostedTimeline* release_timeline, uint64_t release,
                             bool acquire_signaled) = 0;
    // A held commit's acquire point resolved: `woke_ns` when the event loop handed us the event
    // that resolved it, `unlock_ns` just before its state was applied, `applied_ns` after, and
    // `released_ns` once the release points that applying it made due were signaled.
    // `signaled` is false when the point failed (the buffer was dropped).
    virtual void acquire_resolved(wlr_surface* surface, uint32_t seq, bool signaled, int64_t woke_ns,
                                  int64_t unlock_ns, int64_t applied_ns, int64_t released_ns) = 0;
    // wlroots let go of `buffer`: its release points are about to be signaled (the buffer's
    // content may still be read now; after the signal the client may write it).
    virtual void releasing(wlr_buffer* buffer) = 0;
    virtual void release_signaled(const syncobj::HostedTimeline* timeline, uint64_t point) = 0;
};

} // namespace syncway
