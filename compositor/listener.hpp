// A wl_listener owned by a C++ object: connected to one wl_signal at a time and disconnected
// when it is destroyed, so no signal can ever call into a dead object.
#pragma once

#include "wlr.hpp"

#include <functional>
#include <utility>

namespace syncway {

class Listener {
public:
    using Callback = std::function<void(void* data)>;

    Listener() noexcept { wl_list_init(&hook_.listener.link); }
    Listener(wl_signal* signal, Callback callback) : Listener() { connect(signal, std::move(callback)); }
    ~Listener() { disconnect(); }

    // The wl_listener's address is in the signal's list: it must never move.
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    void connect(wl_signal* signal, Callback callback)
    {
        disconnect();
        callback_ = std::move(callback);
        hook_.owner = this;
        hook_.listener.notify = &Listener::notify;
        wl_signal_add(signal, &hook_.listener);
    }

    void disconnect() noexcept
    {
        // wl_list_remove leaves the link dangling; re-init it so disconnect() is idempotent.
        wl_list_remove(&hook_.listener.link);
        wl_list_init(&hook_.listener.link);
    }

    bool connected() const noexcept { return !wl_list_empty(&hook_.listener.link); }

private:
    struct Hook {
        wl_listener listener{};
        Listener* owner = nullptr;
    };

    static void notify(wl_listener* listener, void* data) noexcept;

    Hook hook_;
    Callback callback_;
};

} // namespace syncway
