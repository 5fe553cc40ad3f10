// A wl_listener owned by a C++ object: connected to one wl_signal at a time and disconnected
// when it is destroyed, so no signal can ever call into a dead object.
#pragma once

#include "embedded_hook.hpp"
#include "wlr.hpp"

#include <functional>
#include <utility>

namespace syncway {

class Listener {
public:
    using Callback = std::function<void(void* data)>;

    Listener() noexcept { wl_list_init(&hook_.c.link); }
    Listener(wl_signal* signal, Callback callback) : Listener() { connect(signal, std::move(callback)); }
    ~Listener() { disconnect(); }

    // The wl_listener's address is in the signal's list: it must never move.
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    void connect(wl_signal* signal, Callback callback)
    {
        connect_with(wl_signal_add, signal, std::move(callback));
    }
    // For signals libwayland keeps private and lets us join only through a function
    // (wl_client_add_destroy_listener, wl_display_add_client_created_listener).
    template <typename Target> void connect_with(void (*add)(Target*, wl_listener*), Target* target, Callback callback)
    {
        disconnect();
        callback_ = std::move(callback);
        hook_.owner = this;
        hook_.c.notify = &Listener::notify;
        add(target, &hook_.c);
    }

    void disconnect() noexcept
    {
        // wl_list_remove leaves the link dangling; re-init it so disconnect() is idempotent.
        wl_list_remove(&hook_.c.link);
        wl_list_init(&hook_.c.link);
    }

private:
    using Hook = EmbeddedHook<wl_listener, Listener>;

    static void notify(wl_listener* listener, void* data) noexcept;

    Hook hook_;
    Callback callback_;
};

} // namespace syncway
