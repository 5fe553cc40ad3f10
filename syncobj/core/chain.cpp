#include "chain.hpp"

namespace syncway::syncobj::core {

std::shared_ptr<Chain> Chain::with_base(FenceRef base, PointBudget::Token token)
{
    auto chain = std::make_shared<Chain>();
    Node& node = chain->nodes_[0];
    if (token)
        node.tokens.push_back(std::move(token));
    if (base && !base->resolved())
        chain->watch(0, node, std::move(base));
    else if (base)
        node.error = base->error();
    chain->collapse();
    return chain;
}

std::shared_ptr<Chain> Chain::signaled_through(uint64_t head)
{
    auto chain = std::make_shared<Chain>();
    chain->head_ = head;
    chain->collapsed_ = head;
    return chain;
}

int Chain::error_of(uint64_t point) const noexcept
{
    if (!any_failure_)
        return 0;
    auto it = failures_.lower_bound(point);
    if (it == failures_.end())
        return 0;
    bool inside = it->second.from < point || (it->first == 0 && point == 0);
    return inside ? it->second.error : 0;
}

PointStatus Chain::info(uint64_t point) const noexcept
{
    if (point > head_)
        return {PointState::Unsubmitted, 0};
    if (!resolved(point))
        return {PointState::Pending, 0};
    int error = error_of(point);
    return error ? PointStatus{PointState::Failed, error} : PointStatus{PointState::Signaled, 0};
}

void Chain::watch(uint64_t point, Node& node, FenceRef fence)
{
    node.pending++;
    std::weak_ptr<Chain> weak = weak_from_this();
    node.fences.push_back(fence);
    fences_held_++;
    fence->on_resolved([weak, point](int error) {
        if (auto chain = weak.lock())
            chain->node_resolved(point, error);
    });
}

void Chain::add(uint64_t point, FenceRef fence, PointBudget::Token token)
{
    if (point > head_ && nodes_.empty() && !collapsing_ && (!fence || (fence->resolved() && !fence->error()))) {
        // The common CPU signal on an idle chain: the new head resolves at once, so no node
        // is created only for collapse() to erase it again.
        head_ = point;
        collapsed_ = point;
        if (!waiters_.empty())
            collapse_resolved(point, 0);
        return;
    }
    if (point > head_) {
        head_ = point;
        Node& node = nodes_[point];
        if (token)
            node.tokens.push_back(std::move(token));
        if (fence && !fence->resolved())
            watch(point, node, std::move(fence));
        else if (fence)
            node.error = fence->error();
    } else {
        auto it = nodes_.find(head_);
        if (it == nodes_.end() || !fence)
            return; // the head already resolved: a late point cannot un-signal it
        if (!fence->resolved()) {
            if (token)
                it->second.tokens.push_back(std::move(token));
            watch(head_, it->second, std::move(fence));
        } else if (fence->error() && !it->second.error) {
            it->second.error = fence->error();
        }
    }
    collapse();
}

void Chain::node_resolved(uint64_t point, int error)
{
    auto it = nodes_.find(point);
    if (it == nodes_.end())
        return;
    Node& node = it->second;
    if (error && !node.error)
        node.error = error;
    if (node.pending > 0)
        node.pending--;
    collapse();
}

void Chain::collapse()
{
    // Waiter callbacks may re-enter (signal another point of this chain): the outer loop
    // picks their changes up.
    if (collapsing_)
        return;
    collapsing_ = true;
    auto self = shared_from_this();
    while (!nodes_.empty() && nodes_.begin()->second.pending == 0) {
        auto node_it = nodes_.begin();
        uint64_t point = node_it->first;
        int error = node_it->second.error;
        uint64_t from = collapsed_;
        fences_held_ -= node_it->second.fences.size();
        nodes_.erase(node_it);
        collapsed_ = point;
        if (error) {
            failures_[point] = Failure{from, error};
            any_failure_ = true;
            if (failures_.size() > kMaxFailures)
                failures_.erase(failures_.begin());
        }
        wake_through(point, error);
    }
    collapsing_ = false;
}

void Chain::collapse_resolved(uint64_t point, int error)
{
    collapsing_ = true;
    auto self = shared_from_this();
    wake_through(point, error);
    collapsing_ = false;
    collapse(); // a waiter may have added pending points meanwhile
}

void Chain::wake_through(uint64_t point, int error)
{
    while (!waiters_.empty() && waiters_.begin()->first <= point) {
        Waiter* w = waiters_.begin()->second;
        waiters_.erase(waiters_.begin());
        w->where_ = Waiter::Where::None;
        auto keep = std::move(w->chain_); // the callback may destroy w
        w->resolved(error);
    }
}

void Chain::attach(Waiter& w, uint64_t point)
{
    if (resolved(point)) {
        w.where_ = Waiter::Where::None;
        w.resolved(error_of(point));
        return;
    }
    w.where_ = Waiter::Where::Chain;
    w.point_ = point;
    w.chain_ = shared_from_this();
    w.slot_ = waiters_.emplace(point, &w);
}

void Chain::detach(Waiter& w) noexcept
{
    waiters_.erase(w.slot_);
    w.where_ = Waiter::Where::None;
    w.chain_.reset();
}

} // namespace syncway::syncobj::core
