// Disconnecting a client outside its own request.
//
// libwayland destroys a client that was sent a protocol error only when it next reads from that
// client's socket. Inside the client's request that is at once; but an error found elsewhere (an
// acquire wait that cannot be armed when an earlier one fires, a shm read that faulted during a
// frame) would leave a client that sends nothing more connected, holding everything it holds,
// for as long as it likes. The clients handed here are destroyed at the next idle of the event
// loop, after the current dispatch: wl_client_destroy flushes the error to the client first.
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

#include <list>

namespace syncway {

class DeferredDisconnect {
public:
    explicit DeferredDisconnect(wl_event_loop* loop) : loop_(loop) {}
    ~DeferredDisconnect();
    DeferredDisconnect(const DeferredDisconnect&) = delete;
    DeferredDisconnect& operator=(const DeferredDisconnect&) = delete;

    // `client` has been sent a protocol error. A client that goes meanwhile is forgotten (its
    // pointer may be reused by a new client before the idle runs).
    void schedule(wl_client* client);

private:
    struct Doomed {
        wl_client* client = nullptr;
        Listener destroyed;
    };
    static void run(void* data);

    wl_event_loop* loop_;
    wl_event_source* idle_ = nullptr;
    std::list<Doomed> doomed_;  // list: each Listener's address must not move
};

} // namespace syncway
