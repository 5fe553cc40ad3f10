#include "connection_gate.hpp"

#include <cstddef>

namespace syncway {
namespace {

template <typename Hook> Hook* hook_of(wl_listener* listener)
{
    return reinterpret_cast<Hook*>(reinterpret_cast<char*>(listener) - offsetof(Hook, listener));
}

} // namespace

ConnectionGate::ConnectionGate(wl_display* display, ClientLedger& ledger) : ledger_(ledger)
{
    created_.gate = this;
    created_.listener.notify = &ConnectionGate::on_created;
    wl_display_add_client_created_listener(display, &created_.listener);
}

ConnectionGate::~ConnectionGate()
{
    wl_list_remove(&created_.listener.link);
    for (auto& [client, connection] : connections_)
        wl_list_remove(&connection->destroyed.listener.link);
}

void ConnectionGate::on_created(wl_listener* listener, void* data)
{
    ConnectionGate* self = hook_of<Hook>(listener)->gate;
    auto* client = static_cast<wl_client*>(data);
    auto charge = self->ledger_.charge(client, ClientResource::Connection);
    if (!charge) {
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_ERROR, "refusing a connection (pid %d): %s", pid, charge.error().message.c_str());
        wl_client_post_implementation_error(client, "connection refused: %s", charge.error().message.c_str());
        return;
    }
    auto connection = std::make_unique<Connection>();
    connection->charge = std::move(charge.value());
    connection->destroyed.gate = self;
    connection->destroyed.listener.notify = &ConnectionGate::on_destroyed;
    wl_client_add_destroy_listener(client, &connection->destroyed.listener);
    self->connections_[client] = std::move(connection);
}

void ConnectionGate::on_destroyed(wl_listener* listener, void* data)
{
    ConnectionGate* self = hook_of<Hook>(listener)->gate;
    wl_list_remove(&listener->link);
    self->connections_.erase(static_cast<wl_client*>(data));
}

} // namespace syncway
