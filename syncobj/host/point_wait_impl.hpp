// What a PointWait holds: an eventfd and the way it gets written, one subclass per source.
#pragma once

#include <syncobj/timeline_host.hpp>

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

namespace syncway::syncobj {

class PointWait::Impl {
public:
    explicit Impl(UniqueFd efd) noexcept : efd_(std::move(efd)) {}
    virtual ~Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    int fd() const noexcept { return efd_.get(); }
    // By default whether the eventfd is readable: right for waits written from outside the
    // host's loop (the kernel, the host's waiter thread), which the host cannot see otherwise.
    virtual bool fired() const noexcept;

private:
    UniqueFd efd_;
};

// A new eventfd for a wait (non-blocking, close-on-exec).
Result<UniqueFd> make_wait_eventfd();

} // namespace syncway::syncobj
