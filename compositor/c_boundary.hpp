// Where libwayland or wlroots calls into our C++ (request handlers, event-loop callbacks, binds):
// an exception must stop there, since unwinding through their C frames is undefined. The ones
// our code can throw are allocation failures (std::bad_alloc, std::length_error); a client whose
// request failed that way is told so (no_memory) and disconnected, and the compositor goes on.
// Listener (listener.hpp) runs every signal callback through it.
#pragma once

#include "wlr.hpp"

#include <exception>

namespace syncway {

template <typename Body> void at_c_boundary(const char* where, wl_client* client, Body&& body) noexcept
{
    try {
        body();
        return;
    } catch (const std::exception& e) {
        wlr_log(WLR_ERROR, "%s: %s", where, e.what());
    } catch (...) {
        wlr_log(WLR_ERROR, "%s: unknown exception", where);
    }
    if (client)
        wl_client_post_no_memory(client);
}

} // namespace syncway
