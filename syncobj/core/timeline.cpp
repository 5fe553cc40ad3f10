#include "timeline.hpp"

#include <algorithm>
#include <cerrno>

namespace syncway::syncobj::core {

void Waiter::cancel() noexcept
{
    switch (where_) {
    case Where::None:
        break;
    case Where::Timeline:
        timeline_->unpark(*this);
        break;
    case Where::Chain: {
        auto chain = chain_; // detach() drops w's reference; the chain may die after
        chain->detach(*this);
        break;
    }
    }
}

Timeline::Timeline(bool signaled) : has_fence_(signaled) {}

Timeline::~Timeline() { close(); }

void Timeline::close() noexcept
{
    while (busy_ && !busy_->parked.empty()) {
        Waiter* w = busy_->parked.begin()->second;
        unpark(*w);
        w->dropped();
    }
    reset();
}

uint64_t Timeline::query(bool last_submitted) const noexcept
{
    if (!has_fence_)
        return 0;
    Chain* c = chain();
    if (!c)
        return idle_head_;
    return last_submitted ? c->head() : c->completed();
}

PointStatus Timeline::info(uint64_t point) const noexcept
{
    if (!has_fence_)
        return {PointState::Unsubmitted, 0};
    if (point == 0)
        point = head();
    if (Chain* c = chain())
        return c->info(point);
    return point <= idle_head_ ? PointStatus{PointState::Signaled, 0} : PointStatus{PointState::Unsubmitted, 0};
}

void Timeline::signal(uint64_t point, PointBudget::Token token) { add(point, nullptr, std::move(token)); }

void Timeline::reset()
{
    if (busy_)
        busy_->chain.reset();
    has_fence_ = false;
    idle_head_ = 0;
    fold_idle_chain();
}

Timeline::Busy& Timeline::busy()
{
    if (!busy_)
        busy_ = std::make_unique<Busy>();
    return *busy_;
}

void Timeline::fold_idle_chain() noexcept
{
    if (!busy_)
        return;
    if (busy_->chain && busy_->chain->idle()) {
        idle_head_ = busy_->chain->head();
        busy_->chain.reset();
    }
    if (!busy_->chain && busy_->parked.empty())
        busy_.reset();
}

void Timeline::add(uint64_t point, FenceRef fence, PointBudget::Token token)
{
    bool signaled = !fence || (fence->resolved() && !fence->error());
    // Before anything can wake a waiter: one that resets this timeline has the last word.
    has_fence_ = true;
    if (point == 0) {
        // A binary fence replaces everything; a signaled one leaves nothing to keep but head 0.
        if (signaled) {
            if (busy_)
                busy_->chain.reset();
        } else {
            busy().chain = Chain::with_base(std::move(fence), std::move(token));
        }
        idle_head_ = 0;
    } else {
        fold_idle_chain(); // pending points may have resolved since the last call
        if (!chain() && signaled) {
            // The common CPU signal on an idle timeline: no chain object at all. A point at
            // or below the head is ignored, as Chain::add ignores it on a resolved head.
            // (Without a fence idle_head_ is 0.)
            idle_head_ = std::max(idle_head_, point);
        } else {
            if (!chain())
                busy().chain = Chain::signaled_through(idle_head_);
            // Keep the chain alive across add(): waiters woken inside may reset this timeline.
            auto chain = busy_->chain;
            chain->add(point, std::move(fence), std::move(token));
        }
    }
    submitted_changed();
    fold_idle_chain();
}

void Timeline::submitted_changed()
{
    // Waiter callbacks may add points or reset: re-read the state on every iteration.
    while (has_fence_ && busy_ && !busy_->parked.empty()) {
        auto it = busy_->parked.begin();
        if (it->first != 0 && it->first > head())
            break;
        Waiter* w = it->second;
        unpark(*w);
        if (w->flags_ & kWaitAvailable)
            w->resolved(0);
        else
            attach_to_chain(*w);
    }
}

void Timeline::attach_to_chain(Waiter& w)
{
    uint64_t point = w.point_ == 0 ? head() : w.point_;
    if (!chain()) {
        // Idle: every submitted point signaled (the caller checked that `point` is).
        w.where_ = Waiter::Where::None;
        w.resolved(0);
        return;
    }
    auto chain = busy_->chain;
    chain->attach(w, point);
}

void Timeline::park(Waiter& w)
{
    w.where_ = Waiter::Where::Timeline;
    w.timeline_ = this;
    w.slot_ = busy().parked.emplace(w.point_, &w);
}

void Timeline::unpark(Waiter& w) noexcept
{
    // busy_ stays (perhaps empty) until the next fold: callers iterate it.
    busy_->parked.erase(w.slot_);
    w.where_ = Waiter::Where::None;
    w.timeline_ = nullptr;
}

Status Timeline::wait(Waiter& w, uint64_t point, uint32_t flags)
{
    w.cancel();
    w.point_ = point;
    w.flags_ = flags;
    if (!submitted(point)) {
        // As the kernel (6.12): WAIT_AVAILABLE also waits for the point to be submitted.
        if (!(flags & (kWaitForSubmit | kWaitAvailable)))
            return make_error(EINVAL, "point " + std::to_string(point) + " is not submitted");
        park(w);
        return Ok{};
    }
    if (flags & kWaitAvailable) {
        w.resolved(0);
        return Ok{};
    }
    attach_to_chain(w);
    return Ok{};
}

namespace {
// Resolves a fence from a point of another timeline; owned by that fence.
class FenceLink final : public Waiter {
public:
    explicit FenceLink(Fence* target) : target_(target) {}

protected:
    void resolved(int error) override { target_->resolve(error); }
    void dropped() override { target_->resolve(ENOENT); }

private:
    Fence* target_;
};
} // namespace

Result<FenceRef> Timeline::fence_for(uint64_t point, uint32_t flags)
{
    if (!submitted(point) && !(flags & kWaitForSubmit))
        return make_error(EINVAL, "point " + std::to_string(point) + " is not submitted");
    auto fence = std::make_shared<Fence>();
    auto link = std::make_unique<FenceLink>(fence.get());
    FenceLink& ref = *link;
    fence->set_source(std::move(link));
    auto status = wait(ref, point, flags & kWaitForSubmit);
    if (!status)
        return status.error();
    return fence;
}

} // namespace syncway::syncobj::core
