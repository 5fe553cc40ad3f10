// Every client connection costs the compositor an fd (its socket) that no protocol object
// accounts for. The gate charges each new connection to the ledger's fd budget and refuses one
// that would exceed it: the client gets a protocol error naming the limit and is disconnected
// at its first request, so the headroom stays free for the clients already served.
#pragma once

#include "client_ledger.hpp"
#include "listener.hpp"
#include "wlr.hpp"

#include <memory>
#include <unordered_map>

namespace syncway {

class ConnectionGate {
public:
    ConnectionGate(wl_display* display, ClientLedger& ledger);
    ~ConnectionGate();
    ConnectionGate(const ConnectionGate&) = delete;
    ConnectionGate& operator=(const ConnectionGate&) = delete;

private:
    struct Connection {
        Listener destroyed;
        Charge charge;
    };
    void on_created(wl_client* client);

    ClientLedger& ledger_;
    std::unordered_map<wl_client*, std::unique_ptr<Connection>> connections_;
    Listener created_;  // declared last: disconnected first
};

} // namespace syncway
