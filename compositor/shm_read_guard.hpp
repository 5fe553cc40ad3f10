// Reads of wl_shm memory outside libwayland's SIGBUS guard, made safe. wlroots 0.15 brackets
// its reads of a live wl_buffer with wl_shm_buffer_begin/end_access, but once the client
// destroys the wl_buffer it keeps sampling the pool's mapping (the pixman renderer's texture,
// our cursor plane copy) with no guard: a client that then truncates the pool's file would
// kill the compositor with SIGBUS. Every render of client buffers runs inside a Reading,
// during which a SigbusFallback knows the ranges of every CPU-readable client buffer the
// renderer may sample; a fault there is absorbed (zero pages) and its client disconnected
// right after.
#pragma once

#include "commit_gate.hpp"
#include "deferred_disconnect.hpp"
#include "listener.hpp"
#include "sigbus_fallback.hpp"

#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

namespace syncway {

class ShmReadGuard {
public:
    ShmReadGuard(wl_display* display, CommitGate& gate, std::unique_ptr<SigbusFallback> fallback);
    ~ShmReadGuard();
    ShmReadGuard(const ShmReadGuard&) = delete;
    ShmReadGuard& operator=(const ShmReadGuard&) = delete;

    // Buffers for which this returns true are never sampled through a shrinkable mapping.
    void set_unshrinkable_query(bool (*query)(wlr_buffer*)) { unshrinkable_ = query; }

    // Open around any code that samples client buffers through CPU pointers. A null guard
    // (compositor shutting down) guards nothing.
    class Reading {
    public:
        explicit Reading(ShmReadGuard* guard);
        ~Reading();
        Reading(const Reading&) = delete;
        Reading& operator=(const Reading&) = delete;

    private:
        ShmReadGuard* guard_;
        std::optional<SigbusFallback::Armed> armed_;
    };
    Reading reading() { return Reading(this); }

    // Faults absorbed so far (for the log and tests).
    uint64_t absorbed() const { return fallback_->absorbed(); }

    class Watch;

private:
    void on_commit(wlr_surface* surface);
    void watch(wlr_buffer* buffer, wl_client* client);
    void forget(Watch* watch);
    bool ready_to_absorb();
    void refresh_ranges();
    void disconnect_faulted();

    wl_display* display_;
    CommitGate& gate_;
    std::unique_ptr<SigbusFallback> fallback_;
    std::unordered_set<Watch*> watches_;
    bool (*unshrinkable_)(wlr_buffer*) = nullptr;
    int depth_ = 0;              // nested Readings
    bool warned_foreign_ = false;  // logged once: a SIGBUS handler we do not know is in place
    DeferredDisconnect disconnects_;
};

} // namespace syncway
