// zwlr_output_manager_v1 (wlr-output-management): clients such as wlr-randr list the outputs
// (modes, position, scale, transform) and change them at run time, and turn them off and on.
// An output is on while it is in the output layout; a configuration that would leave no
// output on is refused.
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
    // Why `config` is refused before any output is asked (null: it is not).
    const char* refusal(wlr_output_configuration_v1* config) const;
    // Tests a configuration on every output it names, then (unless test_only) commits it on all
    // of them and places them in the layout, or takes them out of it. True when every output
    // accepted it.
    bool apply(wlr_output_configuration_v1* config, bool test_only);

    Server& server_;
    wlr_output_manager_v1* manager_;
    Listener apply_;
    Listener test_;
    Listener outputs_changed_;
};

} // namespace syncway
