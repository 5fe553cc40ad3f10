// The fence chain of a timeline: nodes keyed by point, each resolved when its fences are.
// Point P resolves with the first node >= P once every node up to it has resolved (kernel
// dma_fence_chain semantics). Resolved nodes at the bottom collapse away, so each operation
// costs O(log n) in the number of live nodes and waiters, with no scans.
#pragma once

#include "fence.hpp"
#include "point_budget.hpp"
#include "waiter.hpp"

#include <syncobj/point_state.hpp>

#include <cstdint>
#include <map>
#include <memory>

namespace syncway::syncobj::core {

class Chain : public std::enable_shared_from_this<Chain> {
public:
    // A chain whose only node is `base` at point 0 (a binary fence replacing everything).
    static std::shared_ptr<Chain> with_base(FenceRef base, PointBudget::Token token = {});
    // A chain with nothing pending whose points up to `head` all signaled: what a Timeline
    // kept inline while idle, made into an object when a point becomes pending or is waited on.
    static std::shared_ptr<Chain> signaled_through(uint64_t head);

    uint64_t head() const noexcept { return head_; }
    // The last point signaled in order: every node up to it has resolved (kernel QUERY).
    uint64_t completed() const noexcept { return nodes_.empty() ? head_ : collapsed_; }
    bool resolved(uint64_t point) const noexcept
    {
        // nodes_.begin() is the lowest unresolved node; it covers (collapsed_, begin].
        return point <= head_ &&
               (nodes_.empty() || (point <= collapsed_ && point < nodes_.begin()->first));
    }
    // Error of the node `point` resolved with (0 if it signaled or is not resolved).
    int error_of(uint64_t point) const noexcept;
    PointStatus info(uint64_t point) const noexcept;
    // Nothing pending, nobody waiting, no failure remembered: the chain says no more than its
    // head (every point up to it signaled), so its timeline may keep just the head.
    bool idle() const noexcept
    {
        return nodes_.empty() && waiters_.empty() && !any_failure_ && !collapsing_;
    }

    // What the chain keeps for pending points: its nodes plus the fences they wait for.
    // Grows by at most 2 per add() (a node and its fence); a service bounds it per timeline.
    size_t pending_entries() const noexcept { return nodes_.size() + fences_held_; }

    // Adds a fence at `point` > 0 (nullptr: already signaled). A point at or below the head
    // joins the head node if it is still pending, and is ignored if the head has resolved.
    // `token` stays with the node the point lands in, if any, until that node goes.
    void add(uint64_t point, FenceRef fence, PointBudget::Token token = {});

    // Attaches `w` for `point` <= head(); resolves it at once if already resolved.
    void attach(Waiter& w, uint64_t point);
    void detach(Waiter& w) noexcept;

private:
    struct Node {
        uint32_t pending = 0;
        int error = 0;
        std::vector<FenceRef> fences; // pending ones, kept alive by the chain
        std::vector<PointBudget::Token> tokens;
    };
    struct Failure {
        uint64_t from = 0; // exclusive: points (from, key] failed
        int error = 0;
    };
    static constexpr size_t kMaxFailures = 64;

    void watch(uint64_t point, Node& node, FenceRef fence);
    void node_resolved(uint64_t point, int error);
    void collapse();
    // Everything up to `point` resolved without a node (the fast path of add()).
    void collapse_resolved(uint64_t point, int error);
    void wake_through(uint64_t point, int error);

    // Hot fields first: a signal and a wait on an idle chain read only the first cache line.
    uint64_t head_ = 0;
    uint64_t collapsed_ = 0;
    bool collapsing_ = false;
    bool any_failure_ = false; // failures_ was ever non-empty: error_of() looks only then
    size_t fences_held_ = 0;   // sum of the nodes' fences
    std::map<uint64_t, Node> nodes_;
    std::multimap<uint64_t, Waiter*> waiters_;
    std::map<uint64_t, Failure> failures_;
};

} // namespace syncway::syncobj::core
