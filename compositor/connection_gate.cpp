#include "connection_gate.hpp"

namespace syncway {

ConnectionGate::ConnectionGate(wl_display* display, ClientLedger& ledger) : ledger_(ledger)
{
    created_.connect_with(wl_display_add_client_created_listener, display,
                          [this](void* data) { on_created(static_cast<wl_client*>(data)); });
}

ConnectionGate::~ConnectionGate() = default;

void ConnectionGate::on_created(wl_client* client)
{
    auto charge = ledger_.charge(client, ClientResource::Connection);
    if (!charge) {
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_ERROR, "refusing a connection (pid %d): %s", pid, charge.error().message.c_str());
        wl_client_post_implementation_error(client, "connection refused: %s", charge.error().message.c_str());
        return;
    }
    auto connection = std::make_unique<Connection>();
    connection->charge = std::move(charge.value());
    // Erasing destroys the listener running this callback; Listener::notify does not touch it
    // after the callback returns.
    connection->destroyed.connect_with(wl_client_add_destroy_listener, client,
                                       [this, client](void*) { connections_.erase(client); });
    connections_[client] = std::move(connection);
}

} // namespace syncway
