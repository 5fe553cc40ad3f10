// zwlr_output_manager_v1 (wlr-output-management): clients such as wlr-randr list the outputs
// (modes, position, scale, transform) and change them at run time.
#pragma once

#include "../listener.hpp"
#include "../wlr.hpp"

namespace syncway {

class Server;

class OutputManagementV1 {
public:
    explicit OutputManagementV1(Server& server);

private:
    // Sends every client the outputs as they are now.
    void publish();
    // Tests a configuration on every output it names, then (unless test_only) commits it on all
    // of them and places them in the layout. True when every output accepted it.
    bool apply(wlr_output_configuration_v1* config, bool test_only);

    Server& server_;
    wlr_output_manager_v1* manager_;
    Listener apply_;
    Listener test_;
    Listener outputs_changed_;
};

} // namespace syncway
