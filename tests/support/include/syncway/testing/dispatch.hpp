// Event dispatch with a deadline, for clients that must not hang when the compositor stops
// answering (wl_display_roundtrip waits forever).
#pragma once

#include <wayland-client.h>

#include <chrono>
#include <functional>

namespace syncway::testing {

enum class DispatchResult {
    done,       // the predicate held
    timed_out,  // the time ran out first (the connection is fine)
    lost,       // the connection died (protocol error or hang-up: see wl_display_get_error)
};

// Flushes requests and dispatches events until done() holds or timeout passes; done() is
// checked before waiting, so a predicate that already holds returns at once.
DispatchResult dispatch_until(wl_display* display, const std::function<bool()>& done,
                              std::chrono::milliseconds timeout);

} // namespace syncway::testing
