#include "service_wakes.hpp"

#include <unistd.h>

#include <cstdint>

namespace syncway::syncobj {

void WakeQueue::flush() noexcept
{
    deferring_ = false;
    // Each write clears its wait's mark; the vector is not touched by it.
    for (ServicePointWait* w : queued_)
        w->write_eventfd();
    queued_.clear();
}

ServicePointWait::~ServicePointWait()
{
    if (queued_)
        wakes_.remove(this);
}

void ServicePointWait::write_eventfd() noexcept
{
    queued_ = false;
    uint64_t one = 1;
    ssize_t r = write(fd(), &one, sizeof one);
    (void)r;  // an eventfd counter cannot overflow from one write per wait
}

void ServicePointWait::fire()
{
    fired_ = true;
    if (!wakes_.deferring())
        return write_eventfd();
    queued_ = true;
    wakes_.push(this);
}

} // namespace syncway::syncobj
