// The one place syncway intercepts wl_surface.commit.
//
// wlroots 0.15 has no hook between a client's wl_surface.commit and the moment it applies the
// pending state (newer wlroots has `client_commit` and blockers). What it has, from libwayland,
// are protocol loggers: libwayland calls them with every request just before dispatching it.
// So the gate is a protocol logger that, for wl_surface.commit, runs the stages below in their
// order while the surface's pending state is still pending. A stage may:
//  - read the pending state (the buffer about to be attached, its points);
//  - hold the commit: wlr_surface_lock_pending() makes wlroots cache this state (and every
//    later commit behind it) instead of applying it, until wlr_surface_unlock_cached(seq);
//  - reject the commit with a protocol error. Posting an error does not stop libwayland from
//    dispatching the request, so a rejected commit is also locked, for good: wlroots caches it
//    and never applies it, no commit listener (the cursor, the scene, the recorder) ever sees
//    the invalid state, and it is freed with the surface when the client is disconnected at the
//    end of this request. Later stages do not run for a rejected commit.
// Exceptions thrown by a stage end at the gate (libwayland's C frames must not unwind): the
// commit is rejected with no_memory.
//
// Every commit that wlroots caches rather than applies costs the compositor a cached surface
// state until it applies, whatever caches it: a stage's hold, a cached state ahead of it (wlroots
// caches every commit behind one), or a synchronized subsurface waiting for its parent. The gate
// charges each such commit to its client (--limit-held-commits, ClientResource::HeldCommits) and
// gives the charge back when wlroots applies that state or frees it with its surface; a client
// over the limit is refused (an implementation error naming the option) and disconnected.
#pragma once

#include "wlr.hpp"

#include <syncway/result.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace syncway {

class ClientLedger;

// One wl_surface.commit going through the gate.
class Commit {
public:
    explicit Commit(wlr_surface* surface) : surface_(surface) {}

    wlr_surface* surface() const { return surface_; }
    const wlr_surface_state& pending() const { return surface_->pending; }
    // The buffer this commit attaches, or null when it attaches none (or removes it).
    wlr_buffer* attached_buffer() const
    {
        return (surface_->pending.committed & WLR_SURFACE_STATE_BUFFER) ? surface_->pending.buffer : nullptr;
    }
    wl_client* client() const { return wl_resource_get_client(surface_->resource); }

    // wlroots caches this commit whatever the stages do: a cached state is ahead of it, or the
    // surface is a synchronized subsurface (wlroots locks its first commit until the parent's).
    bool queued_by_wlroots() const;
    // wlroots will cache this commit rather than apply it, as things stand now: the above, or a
    // stage (so far) holds it.
    bool cached() const { return surface_->pending.cached_state_locks > 0 || queued_by_wlroots(); }

    // Keeps wlroots from applying this state until CommitGate::release(surface, seq).
    uint32_t hold() { return wlr_surface_lock_pending(surface_); }
    // A protocol error on `resource` (an object of this client): the commit never applies.
    void reject(wl_resource* resource, uint32_t code, const std::string& message);
    // A limit of ours, not a protocol error code (wl_display.error implementation).
    void refuse(const std::string& message);
    bool rejected() const { return rejected_; }

    // Set by the explicit-sync stage when the surface synchronizes explicitly: its buffers'
    // implicit fences are then not waited for.
    bool explicit_sync = false;

private:
    void reject_now();

    wlr_surface* surface_;
    bool rejected_ = false;
};

class CommitGate {
public:
    // The stages, in the order they run for each commit.
    enum class Stage : unsigned {
        Record,        // --record notes the commit (client, buffer, time) before anything holds it
        ReadGuard,     // the SIGBUS guard learns which client buffer may be read next
        ExplicitSync,  // linux-drm-syncobj-v1: checks the points, holds until the acquire point
        ImplicitSync,  // linux-dmabuf: holds until a dma-buf's writers finish (no explicit sync)
        PerCommitState,  // a commit that will wait keeps its own wp_presentation feedback
        XdgState,        // ... and its own xdg-shell state (window geometry, acknowledged configure)
        Count,
    };
    using Check = std::function<void(Commit&)>;

    // Cached commits are charged to their clients in `ledger`, which must outlive the gate.
    CommitGate(wl_display* display, ClientLedger& ledger);
    ~CommitGate();
    CommitGate(const CommitGate&) = delete;
    CommitGate& operator=(const CommitGate&) = delete;

    // One check per stage; `set(stage, {})` removes it (its owner goes away).
    void set(Stage stage, Check check);

    // Ends a hold taken with Commit::hold(). When that lets wlroots apply cached states (the
    // released one is the oldest and nothing else holds it), the release hook runs around it:
    // `before` just ahead of wlroots applying them, `after` once it has. Every hold a stage takes
    // is ended here, never with wlr_surface_unlock_cached directly, so that state wlroots keeps
    // outside the wl_surface (xdg-shell's) can be put in place for the commit that applies.
    void release(wlr_surface* surface, uint32_t seq);
    struct ReleaseHook {
        std::function<void(wlr_surface*, uint32_t seq)> before;
        std::function<void(wlr_surface*)> after;
    };
    // One hook; `set_release_hook({})` removes it.
    void set_release_hook(ReleaseHook hook) { release_hook_ = std::move(hook); }

private:
    class CachedCharges;
    friend class CachedCharges;

    void on_commit(wl_resource* surface_resource);
    // Charges the state `commit` is about to leave cached against --limit-held-commits until it
    // applies; false when the client is over the limit (the commit is refused).
    bool charge(Commit& commit);

    std::array<Check, static_cast<unsigned>(Stage::Count)> checks_;
    ReleaseHook release_hook_;
    ClientLedger& ledger_;
    // The surfaces with charged cached states: an intrusive list, so that a surface's first held
    // commit costs no allocation beyond its own record.
    wl_list charged_;
    wl_protocol_logger* logger_ = nullptr;
};

} // namespace syncway
