#include "listener.hpp"

#include <exception>

namespace syncway {

void Listener::notify(wl_listener* listener, void* data) noexcept
{
    Listener* self = Hook::owner_of(listener);
    // Exceptions must not unwind through libwayland's C frames.
    try {
        self->callback_(data);
    } catch (const std::exception& e) {
        wlr_log(WLR_ERROR, "unhandled exception in a signal handler: %s", e.what());
    } catch (...) {
        wlr_log(WLR_ERROR, "unhandled non-standard exception in a signal handler");
    }
}

} // namespace syncway
