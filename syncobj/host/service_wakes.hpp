// Waits of the host on timelines of its own embedded service: resolved in-process by the
// timeline core (no message, no kernel), and their eventfd writes deferred while
// TimelineHost::dispatch(act) runs.
#pragma once

#include "../core/waiter.hpp"
#include "point_wait_impl.hpp"

#include <vector>

namespace syncway::syncobj {

class ServicePointWait;

// Eventfd writes of service waits resolved while TimelineHost::dispatch(act) runs. `act` takes
// the waits it reacts to in-process (PointWait::fired) and drops them, and a dropped wait is
// never written: so those writes, and the loop wake-ups they would cause, are only made after
// `act` for the waits it left alive. Outside such a dispatch, a resolved wait writes at once.
class WakeQueue {
public:
    bool deferring() const noexcept { return deferring_; }
    void begin() noexcept { deferring_ = true; }
    void push(ServicePointWait* w) { queued_.push_back(w); }
    void remove(ServicePointWait* w) noexcept { std::erase(queued_, w); }
    // Writes every queued wait still alive and stops deferring.
    void flush() noexcept;

private:
    bool deferring_ = false;
    std::vector<ServicePointWait*> queued_;
};

// A PointWait on a service timeline: the core calls it back when the point resolves.
class ServicePointWait final : public PointWait::Impl, public core::Waiter {
public:
    ServicePointWait(UniqueFd efd, WakeQueue& wakes) noexcept : PointWait::Impl(std::move(efd)), wakes_(wakes) {}
    // The core::Waiter base unlinks itself from the timeline: the wait is cancelled.
    ~ServicePointWait() override;
    // In-process, no syscall: true as soon as the core resolved it, before its eventfd is written.
    bool fired() const noexcept override { return fired_; }
    void write_eventfd() noexcept;

protected:
    void resolved(int) override { fire(); }
    // The timeline died before the point was submitted: wake the host rather than hang it.
    void dropped() override { fire(); }

private:
    void fire();
    WakeQueue& wakes_;
    bool fired_ = false;
    bool queued_ = false;
};

} // namespace syncway::syncobj
