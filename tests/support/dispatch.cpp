#include "syncway/testing/dispatch.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace syncway::testing {

DispatchResult dispatch_until(wl_display* display, const std::function<bool()>& done,
                              std::chrono::milliseconds timeout)
{
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    while (true) {
        if (wl_display_dispatch_pending(display) < 0)
            return DispatchResult::lost;
        if (done())
            return DispatchResult::done;
        if (wl_display_flush(display) < 0 && errno != EAGAIN)
            return DispatchResult::lost;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0)
            return DispatchResult::timed_out;
        if (wl_display_prepare_read(display) != 0)
            continue;  // events queued meanwhile: dispatch them first
        pollfd p{wl_display_get_fd(display), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1)));
        if (r <= 0) {
            wl_display_cancel_read(display);
            if (r < 0 && errno != EINTR)
                return DispatchResult::lost;
            continue;
        }
        if (wl_display_read_events(display) < 0)
            return DispatchResult::lost;
    }
}

} // namespace syncway::testing
