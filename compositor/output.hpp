// One wlr_output: mode setup, and rendering the scene on every frame (scene_render.hpp draws
// only what can be seen and clears the rest; there is no background node, see
// Server::window_layer).
#pragma once

#include "damage_frames.hpp"
#include "headless_present_relay.hpp"
#include "listener.hpp"
#include "options.hpp"
#include "scene_render.hpp"
#include "wlr_ptr.hpp"
#include "wlr.hpp"

#include <memory>
#include <optional>
#include <string>

namespace syncway {

class Server;

class Output {
public:
    // spec: the --output size. Headless and nested outputs take it as their mode; outputs with
    // a mode list (DRM connectors) take the listed mode of that size with the closest refresh,
    // else a custom mode of it, else (refused) their preferred mode. No spec: preferred mode.
    Output(Server& server, wlr_output* output, std::optional<OutputSpec> spec);
    ~Output();
    Output(const Output&) = delete;

    // Chooses where the framebuffers come from (--buffer-heap), modesets and enables; an error
    // saying why not (the caller names the output), leaving the output disabled.
    Status enable();
    // enable() failed because the heap the user chose cannot serve this output.
    bool buffers_refused() const { return buffers_refused_; }
    wlr_output* wlr() const { return output_; }
    // Whether the output shows the scene: it is in the output layout. Output management takes
    // an output out of the layout to turn it off (see output_management_v1.hpp); it then
    // renders and presents nothing, and windows on it get no frame callbacks.
    bool on() const;

private:
    // Sets the mode for spec_ on an output with a mode list; returns what was chosen, for the log.
    std::string choose_listed_mode();
    void render_frame();
    bool recommit_front_buffer();
    // KMS only: keeps the frame on screen in front_ for recommit_front_buffer.
    void track_front_buffer();

    Server& server_;
    wlr_output* output_;
    std::optional<OutputSpec> spec_;
    bool logged_commit_failure_ = false;
    bool buffers_refused_ = false;
    std::unique_ptr<HeadlessPresentRelay> present_relay_;  // headless outputs only
    std::unique_ptr<DamageDrivenFrames> damage_frames_;    // headless --output WxH@0 only
    SceneOutputRender scene_render_;
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
