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
// state (cached_state_edits.hpp) and the rest of the commit applies. Logged.
#pragma once

#include "timeline_point.hpp"

#include "../client_ledger.hpp"
#include "../commit_gate.hpp"
#include "../deferred_disconnect.hpp"
#include "../listener.hpp"

#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

namespace syncway {

class Server;

class AcquireWaits {
public:
    explicit AcquireWaits(Server& server);
    ~AcquireWaits();
    AcquireWaits(const AcquireWaits&) = delete;
    AcquireWaits& operator=(const AcquireWaits&) = delete;

    // Called for every commit at the explicit-sync stage. Holds `commit` until its own
    // `acquire` point (empty: none pending) and the acquire points of the synchronized
    // subsurfaces whose states this commit applies have all resolved; those subsurfaces' states
    // are held with it and apply right after it, so no frame shows part of the transaction.
    // A commit queued behind a held one is held too, with nothing of its own to wait for (wlroots
    // keeps a cached state for it either way), so that it applies through the commit gate's
    // release like the others. Holds nothing when there is nothing to wait for. The gate, not
    // this, charges held commits against --limit-held-commits.
    void hold(Commit& commit, TimelinePoint acquire);

    // Called by the timeline host's dispatch, before it cleans up after the signals it handled:
    // applies the commits whose service-timeline waits that dispatch resolved.
    void on_host_dispatch();

private:
    class SurfaceQueue;
    friend class SurfaceQueue;

    // A lock of ours on a subsurface's oldest cached state, released after its parent's held
    // commit applies. Forgotten if the subsurface's wl_surface goes first.
    class ChildLock {
    public:
        ChildLock(CommitGate& gate, wlr_surface* surface, uint32_t seq) : gate_(gate), surface_(surface), seq_(seq)
        {
            destroyed_.connect(&surface->events.destroy, [this](void*) { surface_ = nullptr; });
        }
        ~ChildLock() { release(); }
        void release()
        {
            if (surface_)
                gate_.release(std::exchange(surface_, nullptr), seq_);
            destroyed_.disconnect();
        }

    private:
        CommitGate& gate_;
        wlr_surface* surface_;
        uint32_t seq_;
        Listener destroyed_;
    };
    // One held commit: its points (its own acquire point first, if it has one pending), the
    // next one not known to be settled, and the subsurface states that apply with it.
    struct Held {
        uint32_t seq = 0;
        std::vector<TimelinePoint> points;
        bool has_own = false;
        size_t next = 0;
        std::vector<std::unique_ptr<ChildLock>> children;
    };

    // The synchronized subsurfaces (recursively) whose cached states a commit of `surface`
    // releases, and the acquire points held for them.
    void collect_transaction(wlr_surface* surface, bool synchronized, std::vector<wlr_surface*>& children,
                             std::vector<TimelinePoint>& points);

    Server& server_;
    // A wait that cannot be armed when an earlier one fires (not in a request of the client's)
    // disconnects the client at the next idle: it would otherwise stay connected, its commit
    // held with no wait, until it sent another request.
    DeferredDisconnect disconnects_;
    std::unordered_set<SurfaceQueue*> queues_;  // surfaces with held commits
    std::unordered_set<SurfaceQueue*> armed_;   // ... whose oldest commit has a wait armed
    int64_t woke_ns_ = 0;  // when recording: when the loop handed us the current event
};

} // namespace syncway
