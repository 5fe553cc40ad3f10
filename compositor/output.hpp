// One wlr_output: mode setup, its background, and rendering the scene on every frame.
#pragma once

#include "headless_present_relay.hpp"
#include "listener.hpp"
#include "options.hpp"
#include "wlr_ptr.hpp"
#include "wlr.hpp"

#include <memory>
#include <optional>

namespace syncway {

class Server;

class Output {
public:
    // spec: the --output size for headless and nested outputs; DRM uses the preferred mode.
    Output(Server& server, wlr_output* output, std::optional<OutputSpec> spec);
    ~Output();
    Output(const Output&) = delete;

    // Modeset and enable; false (logged, naming the output) when the backend refuses.
    bool enable();
    wlr_output* wlr() const { return output_; }

private:
    void render_frame();
    bool recommit_front_buffer();

    Server& server_;
    wlr_output* output_;
    std::optional<OutputSpec> spec_;
    bool logged_commit_failure_ = false;
    std::unique_ptr<HeadlessPresentRelay> present_relay_;  // headless outputs only
    // The last frame we rendered and committed, while it is on screen: a frame that only
    // carries a cursor-plane update commits it again instead of rendering a new one.
    BufferLockPtr front_;
    bool pending_rendered_ = false;
    bool pending_front_ = false;
    Listener frame_;
    Listener precommit_;
    Listener commit_;
    Listener destroy_;
};

} // namespace syncway
