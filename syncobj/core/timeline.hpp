// One timeline (a kernel syncobj): the current fence chain, or none, plus the waiters parked
// until their point is submitted. Every state change goes through here, and waiters are woken
// from Chain::collapse only.
#pragma once

#include "chain.hpp"

#include <syncway/result.hpp>

namespace syncway::syncobj::core {

// 24 bytes while idle, which is most of the time: see the fields.
class Timeline {
public:
    Timeline() = default;
    explicit Timeline(bool signaled);
    ~Timeline(); // parked waiters are dropped silently
    // Its last holder is gone while this object lives on (the service keeps it inside an
    // object that connections' handles still reference): drops the parked waiters silently,
    // as the kernel frees them with their syncobj, and forgets every point.
    void close() noexcept;
    Timeline(const Timeline&) = delete;
    Timeline& operator=(const Timeline&) = delete;

    bool has_fence() const noexcept { return has_fence_; }
    // Starts loading the chain's hot fields (if it has one), for callers about to act on many
    // timelines: their cache misses then overlap instead of following one another.
    void prefetch() const noexcept
    {
        if (busy_)
            __builtin_prefetch(busy_.get());
    }
    bool submitted(uint64_t point) const noexcept { return has_fence_ && (point == 0 || point <= head()); }
    // QUERY: last point signaled in order, or (last_submitted) the newest point.
    uint64_t query(bool last_submitted) const noexcept;
    PointStatus info(uint64_t point) const noexcept;

    // CPU signal: point 0 replaces the fence with a signaled one; else adds a signaled node.
    void signal(uint64_t point, PointBudget::Token token = {});
    void reset();
    // Puts `fence` at `point` (0: replaces everything, as a binary syncobj does). `token`
    // stays with whatever the chain keeps for it (Chain::add).
    void add(uint64_t point, FenceRef fence, PointBudget::Token token = {});

    // Registers `w` for `point` with kernel WAIT flags (kWaitForSubmit, kWaitAvailable).
    // Unsubmitted point without kWaitForSubmit or kWaitAvailable → EINVAL (kernel 6.12). May resolve `w` before returning.
    Status wait(Waiter& w, uint64_t point, uint32_t flags);

    // A fence that resolves when `point` does (for transfer and export). The point must be
    // submitted, unless flags has kWaitForSubmit.
    Result<FenceRef> fence_for(uint64_t point, uint32_t flags);

    // Pending points and their fences (Chain::pending_entries); 0 while idle.
    size_t pending_entries() const noexcept
    {
        Chain* c = chain();
        return c ? c->pending_entries() : 0;
    }

    // True while the timeline holds a Chain object (points pending, waiters attached, or a
    // failure remembered); false when idle (its state is inline). For tests.
    bool has_chain_object() const noexcept { return chain() != nullptr; }

private:
    friend class Waiter;
    using Parked = std::multimap<uint64_t, Waiter*>;
    // What only a busy timeline has: a chain that says more than the head, waiters parked
    // until their point is submitted.
    struct Busy {
        std::shared_ptr<Chain> chain;
        Parked parked;
    };
    Chain* chain() const noexcept { return busy_ ? busy_->chain.get() : nullptr; }
    uint64_t head() const noexcept
    {
        Chain* c = chain();
        return c ? c->head() : idle_head_;
    }
    Busy& busy();
    void submitted_changed();
    void park(Waiter& w);
    void unpark(Waiter& w) noexcept;
    void attach_to_chain(Waiter& w);
    // Drops an idle chain, keeping its head inline, and the Busy part once it holds nothing.
    void fold_idle_chain() noexcept;

    // Most timelines are idle most of the time (every point submitted has signaled): that
    // state is has_fence_ and idle_head_, with no Chain object, so a signal and a wait on an
    // idle timeline touch these 24 bytes and allocate nothing (an owner keeping many, the
    // service, fits two in a cache line). The kernel's "no fence" is has_fence_ == false.
    bool has_fence_ = false;
    uint64_t idle_head_ = 0; // meaningful while there is no chain
    std::unique_ptr<Busy> busy_;
};

} // namespace syncway::syncobj::core
