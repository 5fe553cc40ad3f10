#include "listener.hpp"

#include "c_boundary.hpp"

namespace syncway {

void Listener::notify(wl_listener* listener, void* data) noexcept
{
    Listener* self = Hook::owner_of(listener);
    // A signal has no client to blame: the exception is logged and the signal goes on.
    at_c_boundary("signal handler", nullptr, [&] { self->callback_(data); });
}

} // namespace syncway
