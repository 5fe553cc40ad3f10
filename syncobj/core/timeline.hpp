// One timeline (a kernel syncobj): the current fence chain, or none, plus the waiters parked
// until their point is submitted. Every state change goes through here, and waiters are woken
// from Chain::collapse only.
#pragma once

#include "chain.hpp"

#include <syncway/result.hpp>

namespace syncway::syncobj::core {

class Timeline {
public:
    Timeline() = default;
    explicit Timeline(bool signaled);
    ~Timeline(); // parked waiters are dropped silently
    Timeline(const Timeline&) = delete;
    Timeline& operator=(const Timeline&) = delete;

    bool has_fence() const noexcept { return chain_ != nullptr; }
    // Starts loading the chain's hot fields, for callers about to act on many timelines: their
    // cache misses then overlap instead of following one another.
    void prefetch() const noexcept { __builtin_prefetch(chain_.get()); }
    bool submitted(uint64_t point) const noexcept
    {
        return chain_ && (point == 0 || point <= chain_->head());
    }
    // QUERY: last point signaled in order, or (last_submitted) the newest point.
    uint64_t query(bool last_submitted) const noexcept;
    PointInfo info(uint64_t point) const noexcept;

    // CPU signal: point 0 replaces the fence with a signaled one; else adds a signaled node.
    void signal(uint64_t point);
    void reset();
    // Puts `fence` at `point` (0: replaces everything, as a binary syncobj does).
    void add(uint64_t point, FenceRef fence);

    // Registers `w` for `point` with kernel WAIT flags (kWaitForSubmit, kWaitAvailable).
    // Unsubmitted point without kWaitForSubmit or kWaitAvailable → EINVAL (kernel 6.12). May resolve `w` before returning.
    Status wait(Waiter& w, uint64_t point, uint32_t flags);

    // A fence that resolves when `point` does (for transfer and export). The point must be
    // submitted, unless flags has kWaitForSubmit.
    Result<FenceRef> fence_for(uint64_t point, uint32_t flags);

private:
    friend class Waiter;
    void submitted_changed();
    void park(Waiter& w);
    void unpark(Waiter& w) noexcept;
    void attach_to_chain(Waiter& w);

    std::shared_ptr<Chain> chain_;
    std::multimap<uint64_t, Waiter*> parked_;
};

} // namespace syncway::syncobj::core
