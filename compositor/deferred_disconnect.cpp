#include "deferred_disconnect.hpp"

namespace syncway {

DeferredDisconnect::~DeferredDisconnect()
{
    if (idle_)
        wl_event_source_remove(idle_);
}

void DeferredDisconnect::schedule(wl_client* client)
{
    for (const Doomed& d : doomed_)
        if (d.client == client)
            return;
    Doomed& d = doomed_.emplace_back();
    d.client = client;
    d.destroyed.connect_with(wl_client_add_destroy_listener, client, [&d](void*) { d.client = nullptr; });
    if (!idle_)
        idle_ = wl_event_loop_add_idle(loop_, &DeferredDisconnect::run, this);
}

void DeferredDisconnect::run(void* data)
{
    auto* self = static_cast<DeferredDisconnect*>(data);
    self->idle_ = nullptr;
    std::list<Doomed> doomed = std::move(self->doomed_);
    self->doomed_.clear();
    for (Doomed& d : doomed)
        if (d.client)
            wl_client_destroy(d.client);  // flushes the error to it first; clears d.client
}

} // namespace syncway
