#include "point_wait_impl.hpp"

#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway::syncobj {

PointWait::PointWait() noexcept = default;
PointWait::PointWait(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
PointWait::PointWait(PointWait&&) noexcept = default;
PointWait& PointWait::operator=(PointWait&&) noexcept = default;
PointWait::~PointWait() = default;

int PointWait::fd() const noexcept { return impl_ ? impl_->fd() : -1; }
bool PointWait::fired() const noexcept { return impl_ && impl_->fired(); }

bool PointWait::Impl::fired() const noexcept
{
    pollfd p{efd_.get(), POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

Result<UniqueFd> make_wait_eventfd()
{
    UniqueFd efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!efd)
        return make_error(errno, std::string("eventfd failed: ") + strerror(errno));
    return efd;
}

} // namespace syncway::syncobj
